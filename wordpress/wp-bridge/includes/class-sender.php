<?php
/**
 * Works through the outbox.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Sends due events, one claimed row at a time, and records each answer.
 */
final class Sender {

	/**
	 * Sends what is due.
	 *
	 * @param int        $limit  At most this many events.
	 * @param int        $budget Stop starting new attempts after this many seconds.
	 * @param int[]|null $ids    These rows (if still waiting) instead of the oldest due ones.
	 * @return array<string,int> Attempts per outcome kind.
	 */
	public static function run( int $limit = 25, int $budget = 20, ?array $ids = null ): array {
		$stats  = array(
			Outcome::DONE  => 0,
			Outcome::RETRY => 0,
			Outcome::FAIL  => 0,
		);
		$url    = Settings::gateway_url();
		$secret = Settings::secret();
		if ( '' === $url || '' === $secret ) {
			// Not configured yet: events wait, and no attempt is counted.
			return $stats;
		}
		$settings = Settings::all();
		$policy   = new Retry_Policy(
			/**
			 * Filters the first retry delay in seconds (it doubles per attempt, up to an hour).
			 *
			 * @param int $seconds Default 30.
			 */
			(int) apply_filters( 'wp_bridge_retry_base_delay', 30 ),
			(int) $settings['max_attempts']
		);
		$started  = microtime( true );
		$ids      = null === $ids ? Outbox::due( time(), $limit ) : array_slice( array_map( 'intval', $ids ), 0, $limit );
		foreach ( $ids as $id ) {
			if ( microtime( true ) - $started > $budget ) {
				break;
			}
			$row = Outbox::claim( $id, time() );
			if ( null === $row ) {
				continue;
			}
			$outcome = Client::attempt( $url, $secret, (string) $row->event_id, (string) $row->body );
			$now     = time();
			$next    = $policy->next( (int) $row->attempts + 1, $outcome, $now );
			Outbox::record( $row, $outcome, $next, $now );
			++$stats[ $outcome->kind ];
			/**
			 * Fires after each delivery attempt.
			 *
			 * @param string  $event_id Event id.
			 * @param Outcome $outcome  What the attempt came to.
			 * @param string  $state    The event's new state.
			 */
			do_action( 'wp_bridge_attempted', (string) $row->event_id, $outcome, $next['state'] );
			if ( self::gateway_unavailable( $outcome ) ) {
				// The rest would meet the same refusal; they keep their turn.
				break;
			}
		}
		return $stats;
	}

	/**
	 * Whether an answer says the gateway itself is down or overloaded, as
	 * opposed to something about this one event.
	 *
	 * @param Outcome $outcome Outcome.
	 */
	public static function gateway_unavailable( Outcome $outcome ): bool {
		if ( Outcome::RETRY !== $outcome->kind ) {
			return false;
		}
		return null === $outcome->status || $outcome->status >= 500 || ( 429 === $outcome->status && 'duplicate_in_progress' !== $outcome->code );
	}
}
