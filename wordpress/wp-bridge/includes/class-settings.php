<?php
/**
 * The plugin's settings and its signing secret.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Reads and sanitizes the `wp_bridge_settings` option; finds the secret.
 */
final class Settings {

	public const OPTION        = 'wp_bridge_settings';
	public const SECRET_OPTION = 'wp_bridge_secret';

	/** Comments are sent once approved; pending ones wait for approval. */
	public const COMMENTS_APPROVED = 'approved';
	/** Approved and pending comments are sent at once; spam never. */
	public const COMMENTS_PENDING = 'approved_pending';
	/** Every comment, spam included (for a downstream spam second opinion). */
	public const COMMENTS_ALL = 'all';

	/**
	 * Defaults of every setting.
	 *
	 * @return array<string,mixed>
	 */
	public static function defaults(): array {
		return array(
			'gateway_url'    => '',
			'events'         => array(
				'comment.created' => true,
				'order.created'   => true,
				'lead.created'    => true,
			),
			'comment_policy' => self::COMMENTS_APPROVED,
			'max_attempts'   => 15,
			'retention_days' => 30,
		);
	}

	/**
	 * Current settings, defaults filled in.
	 *
	 * @return array<string,mixed>
	 */
	public static function all(): array {
		$saved = get_option( self::OPTION, array() );
		return self::sanitize( $saved, false );
	}

	/**
	 * The gateway URL: the WP_BRIDGE_GATEWAY_URL constant when defined (for
	 * configuration kept in wp-config.php), else the setting.
	 */
	public static function gateway_url(): string {
		if ( defined( 'WP_BRIDGE_GATEWAY_URL' ) && is_string( WP_BRIDGE_GATEWAY_URL ) ) {
			return trim( WP_BRIDGE_GATEWAY_URL );
		}
		return (string) self::all()['gateway_url'];
	}

	/**
	 * Whether events of this type are sent.
	 *
	 * @param string $type Event type.
	 */
	public static function sends( string $type ): bool {
		return ! empty( self::all()['events'][ $type ] );
	}

	/**
	 * Where the secret comes from: 'constant', 'environment', 'option' or ''.
	 *
	 * The constant and environment keep the secret out of the database (and
	 * so out of backups and database dumps); the option is a fallback for
	 * hosts where neither can be set.
	 */
	public static function secret_source(): string {
		if ( defined( 'WP_BRIDGE_SECRET' ) && is_string( WP_BRIDGE_SECRET ) && '' !== Signer::signing_secret( WP_BRIDGE_SECRET ) ) {
			return 'constant';
		}
		$env = getenv( 'WP_BRIDGE_SECRET' );
		if ( is_string( $env ) && '' !== Signer::signing_secret( $env ) ) {
			return 'environment';
		}
		return '' !== self::stored_secret() ? 'option' : '';
	}

	/**
	 * The secret that signs; empty when none is configured.
	 */
	public static function secret(): string {
		switch ( self::secret_source() ) {
			case 'constant':
				return Signer::signing_secret( WP_BRIDGE_SECRET );
			case 'environment':
				return Signer::signing_secret( (string) getenv( 'WP_BRIDGE_SECRET' ) );
			case 'option':
				return Signer::signing_secret( self::stored_secret() );
			default:
				return '';
		}
	}

	/**
	 * The fallback secret kept in the options table.
	 */
	private static function stored_secret(): string {
		$stored = get_option( self::SECRET_OPTION, '' );
		return is_string( $stored ) ? $stored : '';
	}

	/**
	 * Settings as they may be stored.
	 *
	 * @param mixed $input    Submitted or stored values.
	 * @param bool  $complain Whether to report invalid values on the settings screen.
	 * @return array<string,mixed>
	 */
	public static function sanitize( $input, bool $complain = true ): array {
		$input    = is_array( $input ) ? $input : array();
		$complain = $complain && function_exists( 'add_settings_error' );
		$defaults = self::defaults();
		$out      = $defaults;

		$url = isset( $input['gateway_url'] ) ? trim( (string) $input['gateway_url'] ) : '';
		if ( '' !== $url ) {
			$clean = esc_url_raw( $url, array( 'http', 'https' ) );
			if ( '' !== $clean && Text::is_http_url( $clean ) ) {
				$out['gateway_url'] = $clean;
			} elseif ( $complain ) {
				add_settings_error( self::OPTION, 'gateway_url', __( 'The gateway URL must be an absolute http:// or https:// URL.', 'wp-bridge' ) );
			}
		}

		if ( isset( $input['events'] ) && is_array( $input['events'] ) ) {
			foreach ( array_keys( $defaults['events'] ) as $type ) {
				$out['events'][ $type ] = ! empty( $input['events'][ $type ] );
			}
		}

		$policies = array( self::COMMENTS_APPROVED, self::COMMENTS_PENDING, self::COMMENTS_ALL );
		if ( isset( $input['comment_policy'] ) && in_array( $input['comment_policy'], $policies, true ) ) {
			$out['comment_policy'] = $input['comment_policy'];
		}

		if ( isset( $input['max_attempts'] ) ) {
			$out['max_attempts'] = min( 100, max( 1, absint( $input['max_attempts'] ) ) );
		}
		if ( isset( $input['retention_days'] ) ) {
			$out['retention_days'] = min( 3650, max( 1, absint( $input['retention_days'] ) ) );
		}
		return $out;
	}

	/**
	 * The fallback secret as it may be stored: an empty submission keeps the
	 * stored one (the field is never filled in with it), the "forget"
	 * checkbox clears it.
	 *
	 * @param mixed $input Submitted value.
	 */
	public static function sanitize_secret( $input ): string {
		// options.php has checked the nonce and the capability before this runs.
		if ( ! empty( $_POST['wp_bridge_forget_secret'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Missing
			return '';
		}
		$secret = is_string( $input ) ? trim( $input ) : '';
		if ( '' === $secret ) {
			return self::stored_secret();
		}
		if ( strlen( Signer::signing_secret( $secret ) ) < 16 ) {
			function_exists( 'add_settings_error' ) && add_settings_error( self::SECRET_OPTION, 'short', __( 'The secret must be at least 16 bytes long, as the gateway requires; it was not saved.', 'wp-bridge' ) );
			return self::stored_secret();
		}
		return $secret;
	}
}
