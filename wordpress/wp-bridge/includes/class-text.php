<?php
/**
 * Turns WordPress values into values the gateway's schema accepts.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * The gateway rejects a whole event for one oversized or malformed field,
 * and a rejected event is never retried, so every value is fitted here to
 * the schema's limits (docs/wire-format.md) instead.
 */
final class Text {

	/** Names, titles, slugs: the schema's short-text limit, in characters. */
	public const SHORT = 512;

	/** Comment bodies and form field values, in characters. */
	public const LONG = 65535;

	/**
	 * A string without NUL characters (the gateway refuses them), at most
	 * $max characters long.
	 *
	 * @param mixed $value Any scalar.
	 * @param int   $max   Limit in characters.
	 */
	public static function clean( $value, int $max = self::SHORT ): string {
		if ( is_bool( $value ) ) {
			$value = $value ? '1' : '';
		}
		$text = str_replace( "\0", '', is_scalar( $value ) ? (string) $value : '' );
		if ( mb_strlen( $text, 'UTF-8' ) > $max ) {
			$text = mb_substr( $text, 0, $max, 'UTF-8' );
		}
		return $text;
	}

	/**
	 * The same pragmatic check as the gateway: one domain with a dot, a
	 * local part of 1–64 bytes, no whitespace or control characters.
	 *
	 * @param string $email Candidate address.
	 */
	public static function is_email( string $email ): bool {
		if ( strlen( $email ) > 254 ) {
			return false;
		}
		$at = strrpos( $email, '@' );
		if ( false === $at ) {
			return false;
		}
		$local  = substr( $email, 0, $at );
		$domain = substr( $email, $at + 1 );
		$clean  = static function ( string $part ): bool {
			return 1 !== preg_match( '/[\s\p{Cc}@]/u', $part ) && false !== preg_match( '//u', $part );
		};
		return '' !== $local
			&& strlen( $local ) <= 64
			&& $clean( $local )
			&& $clean( $domain )
			&& false !== strpos( $domain, '.' )
			&& '.' !== $domain[0]
			&& '.' !== substr( $domain, -1 )
			&& false === strpos( $domain, '..' );
	}

	/**
	 * The address when the gateway will accept it, else null (the field is
	 * optional where this is used, so dropping it beats losing the event).
	 *
	 * @param mixed $email Candidate address.
	 */
	public static function email_or_null( $email ): ?string {
		$email = trim( self::clean( $email, 254 ) );
		return self::is_email( $email ) ? $email : null;
	}

	/**
	 * Money as the gateway wants it: a non-negative decimal string with a
	 * point, never a float in the JSON.
	 *
	 * @param mixed $value    A number or numeric string.
	 * @param int   $decimals Digits after the point (the shop's price decimals).
	 */
	public static function decimal( $value, int $decimals = 2 ): string {
		$decimals = max( 0, min( 8, $decimals ) );
		$text     = is_string( $value ) ? trim( $value ) : $value;
		if ( is_string( $text ) && 1 === preg_match( '/^(\d{1,15})(?:\.(\d{0,8}))?$/', $text, $m ) ) {
			// Exact already: keep the shop's own digits instead of a float round trip.
			$fraction = str_pad( $m[2] ?? '', $decimals, '0' );
			return '' === $fraction ? $m[1] : $m[1] . '.' . $fraction;
		}
		$number = is_numeric( $text ) ? (float) $text : 0.0;
		// Refund-like negative amounts cannot be expressed in this schema.
		return number_format( max( 0.0, $number ), $decimals, '.', '' );
	}

	/**
	 * A status slug: lowercase letters, digits, '-' and '_', at most 32.
	 *
	 * @param mixed $value Raw status.
	 */
	public static function slug( $value ): string {
		$slug = substr( (string) preg_replace( '/[^a-z0-9_-]/', '', strtolower( self::clean( $value ) ) ), 0, 32 );
		return '' === $slug ? 'unknown' : $slug;
	}

	/**
	 * RFC 3339 in UTC from a MySQL "Y-m-d H:i:s" GMT date, as WordPress
	 * stores them; an empty or zero date means "now".
	 *
	 * @param string|null $gmt MySQL GMT date.
	 * @param int         $now Fallback Unix time.
	 */
	public static function rfc3339_from_gmt( ?string $gmt, int $now ): string {
		$time = false;
		if ( null !== $gmt && '' !== $gmt && 0 !== strpos( $gmt, '0000-00-00' ) ) {
			$time = strtotime( $gmt . ' UTC' );
		}
		return self::rfc3339( false === $time ? $now : $time );
	}

	/**
	 * RFC 3339 in UTC.
	 *
	 * @param int $time Unix time.
	 */
	public static function rfc3339( int $time ): string {
		return gmdate( 'Y-m-d\TH:i:s\Z', $time );
	}

	/**
	 * Whether the gateway will accept this as an absolute http(s) URL.
	 *
	 * @param string $url Candidate URL.
	 */
	public static function is_http_url( string $url ): bool {
		if ( strlen( $url ) > 2048 || 1 === preg_match( '/[\s\p{Cc}]/u', $url ) ) {
			return false;
		}
		$parts = wp_parse_url( $url );
		return is_array( $parts )
			&& isset( $parts['scheme'], $parts['host'] )
			&& in_array( strtolower( $parts['scheme'] ), array( 'http', 'https' ), true )
			&& '' !== $parts['host'];
	}
}
