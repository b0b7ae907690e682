<?php
/**
 * The one door into the outbox for every integration.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Checks that the event type is switched on, lets themes adjust or veto the
 * data, queues it and arranges for it to be sent after the response.
 */
final class Events {

	/**
	 * Queues an event.
	 *
	 * @param string      $type       Event type.
	 * @param array       $data       Its data.
	 * @param string|null $dedupe_key Same key, one event.
	 * @param mixed       $source     The object the event is about (comment, order, form…), for filters.
	 * @return string|null Event id, or null when not queued.
	 */
	public static function queue( string $type, array $data, ?string $dedupe_key, $source = null ): ?string {
		if ( ! Settings::sends( $type ) ) {
			return null;
		}
		/**
		 * Filters an event's data before it is queued; return false to drop it.
		 *
		 * @param array|false $data   The event's data, in the gateway's schema.
		 * @param string      $type   Event type.
		 * @param mixed       $source The comment, order or form submission it came from.
		 */
		$data = apply_filters( 'wp_bridge_event_data', $data, $type, $source );
		if ( ! is_array( $data ) ) {
			return null;
		}
		try {
			$event_id = Outbox::add( $type, $data, $dedupe_key );
		} catch ( \InvalidArgumentException $e ) {
			return null;
		}
		if ( null !== $event_id ) {
			Dispatcher::arm();
		}
		return $event_id;
	}
}
