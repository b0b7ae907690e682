<?php
/**
 * Admin notices: events that keep failing, a plugin that is not set up.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Admin;

use WP_Bridge\Outbox;
use WP_Bridge\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Shown to administrators on every admin screen until the cause is gone.
 */
final class Notices {

	/** Retries after which an event counts as "keeps failing". */
	private const TROUBLED_AFTER = 3;

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'admin_notices', array( self::class, 'render' ) );
	}

	/**
	 * The notices.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$settings_url = admin_url( 'options-general.php?page=' . Settings_Page::SLUG );
		if ( '' === Settings::gateway_url() || '' === Settings::secret() ) {
			printf(
				'<div class="notice notice-warning"><p>%s <a href="%s">%s</a></p></div>',
				esc_html__( 'wp-bridge is not sending events yet: it needs the gateway URL and the signing secret. Events are kept until then.', 'wp-bridge' ),
				esc_url( $settings_url ),
				esc_html__( 'Settings', 'wp-bridge' )
			);
		}
		$troubled = Outbox::troubled( self::TROUBLED_AFTER );
		if ( null === $troubled ) {
			return;
		}
		$answer = trim( ( null === $troubled->last_status ? '' : $troubled->last_status . ' ' ) . $troubled->last_error );
		printf(
			'<div class="notice notice-error"><p>%s <a href="%s">%s</a></p></div>',
			esc_html(
				sprintf(
					/* translators: 1: number of events, 2: the gateway's last answer such as "401 bad_signature" */
					_n( 'wp-bridge: %1$d event is failing to reach the gateway (last answer: %2$s).', 'wp-bridge: %1$d events are failing to reach the gateway (last answer: %2$s).', $troubled->count, 'wp-bridge' ),
					$troubled->count,
					'' === $answer ? __( 'none', 'wp-bridge' ) : $answer
				)
			),
			esc_url( admin_url( 'tools.php?page=' . Events_Page::SLUG . '&state=' . Outbox::FAILED ) ),
			esc_html__( 'See the events', 'wp-bridge' )
		);
	}
}
