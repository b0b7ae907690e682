<?php
/**
 * The JSON body of an event.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Builds `{"event","event_id","site","data"}` and keeps it under the
 * gateway's body limit.
 */
final class Envelope {

	/** The event types the gateway knows. */
	public const TYPES = array( 'comment.created', 'order.created', 'lead.created' );

	/** The gateway's default body limit (64 KiB). */
	public const MAX_BYTES = 65536;

	private const JSON_FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_INVALID_UTF8_SUBSTITUTE;

	/**
	 * The body, encoded once: every attempt sends these exact bytes.
	 *
	 * Over the limit, the longest text in `data` is shortened until it fits,
	 * because a 413 is final and a shortened comment is still useful.
	 *
	 * @param string $type     One of TYPES.
	 * @param string $event_id Stable id, the gateway's dedupe key.
	 * @param string $site     Absolute URL of the site.
	 * @param array  $data     Payload of the type.
	 * @param int    $max      Byte limit.
	 * @throws \InvalidArgumentException When the type is unknown or the data cannot be encoded.
	 */
	public static function encode( string $type, string $event_id, string $site, array $data, int $max = self::MAX_BYTES ): string {
		if ( ! in_array( $type, self::TYPES, true ) ) {
			throw new \InvalidArgumentException( 'unknown event type' );
		}
		for ( $round = 0; $round < 64; $round++ ) {
			$body = wp_json_encode(
				array(
					'event'    => $type,
					'event_id' => $event_id,
					'site'     => $site,
					'data'     => (object) $data,
				),
				self::JSON_FLAGS
			);
			if ( false === $body ) {
				throw new \InvalidArgumentException( 'event data cannot be encoded as JSON' );
			}
			$excess = strlen( $body ) - $max;
			if ( $excess <= 0 || ! self::shorten_longest( $data, $excess ) ) {
				return $body;
			}
		}
		return $body;
	}

	/**
	 * Cuts the longest string in $data by at least $excess bytes (escaping
	 * can make the JSON longer than the raw text, hence the margin and the
	 * caller's loop).
	 *
	 * @param array $data   Payload, changed in place.
	 * @param int   $excess Bytes to lose.
	 * @return bool False when nothing is left to shorten.
	 */
	private static function shorten_longest( array &$data, int $excess ): bool {
		list( $path, $length ) = self::longest( $data, array() );
		if ( null === $path || $length <= 16 ) {
			return false;
		}
		$node = &$data;
		foreach ( $path as $key ) {
			if ( is_object( $node ) ) {
				$node = &$node->$key;
			} else {
				$node = &$node[ $key ];
			}
		}
		$node = mb_strcut( $node, 0, max( 0, $length - $excess - 64 ), 'UTF-8' ) . '…';
		return true;
	}

	/**
	 * Path to, and byte length of, the longest string under $node.
	 *
	 * @param array|object $node Array or object (lead fields are objects).
	 * @param array        $path Keys leading to $node.
	 * @return array{0: array|null, 1: int}
	 */
	private static function longest( $node, array $path ): array {
		$best = array( null, 0 );
		foreach ( $node as $key => $value ) {
			if ( is_array( $value ) || is_object( $value ) ) {
				$found = self::longest( $value, array_merge( $path, array( $key ) ) );
			} elseif ( is_string( $value ) ) {
				$found = array( array_merge( $path, array( $key ) ), strlen( $value ) );
			} else {
				continue;
			}
			if ( $found[1] > $best[1] ) {
				$best = $found;
			}
		}
		return $best;
	}
}
