<?php
/**
 * do_action( 'wp_bridge_send', $event_type, $data ) for themes and plugins.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Envelope;
use WP_Bridge\Events;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Request;
use WP_Bridge\Text;

defined( 'ABSPATH' ) || exit;

/**
 * Queues an event built by other code, through the same outbox, retries
 * and settings as the plugin's own events.
 *
 *     do_action( 'wp_bridge_send', 'lead.created', array(
 *         'form_id'    => 'newsletter',
 *         'form_title' => 'Newsletter',
 *         'fields'     => array( 'email' => $email ),
 *         'email'      => $email,
 *     ) );
 *
 * A third argument, array( 'dedupe_key' => 'my-plugin:42' ), makes repeated
 * calls for the same thing queue one event.
 */
final class Public_Api {

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'wp_bridge_send', array( self::class, 'send' ), 10, 3 );
	}

	/**
	 * Queues the event.
	 *
	 * @param mixed $event_type comment.created, order.created or lead.created.
	 * @param mixed $data       The event's data, in the gateway's schema.
	 * @param mixed $options    Optional: array( 'dedupe_key' => string ).
	 */
	public static function send( $event_type = '', $data = array(), $options = array() ): void {
		if ( ! is_string( $event_type ) || ! in_array( $event_type, Envelope::TYPES, true ) || ! is_array( $data ) ) {
			_doing_it_wrong( 'wp_bridge_send', esc_html__( 'Pass an event type (comment.created, order.created or lead.created) and an array of data.', 'wp-bridge' ), '1.0.0' );
			return;
		}
		$now = time();
		if ( 'lead.created' === $event_type ) {
			// Leads are the usual case for custom code: fill in what the
			// current request knows and fit the rest to the schema.
			$data = Lead_Payload::build(
				$data['form_id'] ?? 'custom',
				(string) ( $data['form_title'] ?? '' ),
				is_array( $data['fields'] ?? null ) ? $data['fields'] : array(),
				isset( $data['email'] ) ? (string) $data['email'] : null,
				(string) ( $data['source_url'] ?? Request::source_url() ),
				home_url( '/' ),
				isset( $data['created_at'] ) && false !== strtotime( (string) $data['created_at'] ) ? (int) strtotime( (string) $data['created_at'] ) : $now
			);
		} elseif ( ! isset( $data['created_at'] ) ) {
			$data['created_at'] = Text::rfc3339( $now );
		}
		$key = is_array( $options ) && isset( $options['dedupe_key'] ) && is_scalar( $options['dedupe_key'] ) ? 'api:' . $options['dedupe_key'] : null;
		Events::queue( $event_type, $data, $key, $options );
	}
}
