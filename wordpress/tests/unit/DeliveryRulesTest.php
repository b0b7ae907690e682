<?php
/**
 * What the sender does with each answer of the gateway (docs/wire-format.md)
 * and when it tries again.
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;
use WP_Bridge\Outbox;
use WP_Bridge\Outcome;
use WP_Bridge\Retry_Policy;
use WP_Bridge\Sender;

final class DeliveryRulesTest extends TestCase {

	private const NOW = 1700000000;

	private static function answer( int $status, array $json, ?string $retry_after = null ): Outcome {
		return Outcome::from_response( $status, json_encode( $json ), $retry_after, self::NOW );
	}

	/**
	 * @return array<string,array{0:int,1:string,2:string}>
	 */
	public static function answers(): array {
		return array(
			'202 accepted'              => array( 202, 'accepted', Outcome::DONE ),
			'200 duplicate'             => array( 200, 'duplicate', Outcome::DONE ),
			'400 missing_header'        => array( 400, 'missing_header', Outcome::FAIL ),
			'400 invalid_timestamp'     => array( 400, 'invalid_timestamp', Outcome::FAIL ),
			'400 invalid_json'          => array( 400, 'invalid_json', Outcome::FAIL ),
			'400 incomplete_body'       => array( 400, 'incomplete_body', Outcome::RETRY ),
			'400 event_id_mismatch'     => array( 400, 'event_id_mismatch', Outcome::FAIL ),
			'400 invalid_event'         => array( 400, 'invalid_event', Outcome::FAIL ),
			'401 stale_timestamp'       => array( 401, 'stale_timestamp', Outcome::RETRY ),
			'401 bad_signature'         => array( 401, 'bad_signature', Outcome::FAIL ),
			'404 not_found'             => array( 404, 'not_found', Outcome::FAIL ),
			'405 method_not_allowed'    => array( 405, 'method_not_allowed', Outcome::FAIL ),
			'408 from a proxy'          => array( 408, 'http_408', Outcome::RETRY ),
			'413 payload_too_large'     => array( 413, 'payload_too_large', Outcome::FAIL ),
			'415 unsupported'           => array( 415, 'unsupported_media_type', Outcome::FAIL ),
			'422 unknown_event_type'    => array( 422, 'unknown_event_type', Outcome::FAIL ),
			'429 duplicate_in_progress' => array( 429, 'duplicate_in_progress', Outcome::RETRY ),
			'503 overloaded'            => array( 503, 'overloaded', Outcome::RETRY ),
			'503 storage_unavailable'   => array( 503, 'storage_unavailable', Outcome::RETRY ),
			'502 from a proxy'          => array( 502, 'http_502', Outcome::RETRY ),
			'301 redirect'              => array( 301, 'http_301', Outcome::FAIL ),
		);
	}

	/**
	 * @dataProvider answers
	 */
	public function test_each_answer_is_done_retried_or_failed( int $status, string $code, string $kind ): void {
		$json    = 0 === strpos( $code, 'http_' ) ? array() : ( $status < 300 ? array( 'status' => $code ) : array( 'status' => 'rejected', 'error' => $code ) );
		$outcome = self::answer( $status, $json );
		$this->assertSame( $kind, $outcome->kind );
		$this->assertSame( $code, $outcome->code );
		$this->assertSame( $status, $outcome->status );
	}

	public function test_network_errors_are_retried(): void {
		$outcome = Outcome::from_transport_error( 'cURL error 7: Failed to connect to 127.0.0.1 port 9: Connection refused' );
		$this->assertSame( Outcome::RETRY, $outcome->kind );
		$this->assertNull( $outcome->status );
		$this->assertSame( 'network_error', $outcome->code );
		$this->assertStringContainsString( 'Connection refused', $outcome->summary );
	}

	public function test_non_json_answers_are_kept_for_the_admin(): void {
		$outcome = Outcome::from_response( 502, '<html>Bad gateway</html>', null, self::NOW );
		$this->assertSame( 'http_502', $outcome->code );
		$this->assertSame( '<html>Bad gateway</html>', $outcome->summary );
		$this->assertSame( 1000, mb_strlen( Outcome::from_response( 500, str_repeat( 'x', 5000 ), null, self::NOW )->summary ) );
	}

	public function test_retry_after_in_seconds_or_as_a_date(): void {
		$this->assertSame( 5, Outcome::parse_retry_after( '5', self::NOW ) );
		$this->assertSame( 120, Outcome::parse_retry_after( gmdate( 'D, d M Y H:i:s', self::NOW + 120 ) . ' GMT', self::NOW ) );
		$this->assertSame( 0, Outcome::parse_retry_after( gmdate( 'D, d M Y H:i:s', self::NOW - 60 ) . ' GMT', self::NOW ) );
		$this->assertNull( Outcome::parse_retry_after( null, self::NOW ) );
		$this->assertNull( Outcome::parse_retry_after( 'soon', self::NOW ) );
		$this->assertSame( 1, self::answer( 429, array( 'error' => 'duplicate_in_progress' ), '1' )->retry_after );
	}

	public function test_backoff_doubles_up_to_an_hour(): void {
		$policy = new Retry_Policy( 30, 15, static fn() => 1.0 );
		$delays = array_map( static fn( $n ) => $policy->delay( $n, null ), range( 1, 10 ) );
		$this->assertSame( array( 30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600 ), $delays );
	}

	public function test_backoff_has_jitter_of_twenty_percent(): void {
		$low  = new Retry_Policy( 30, 15, static fn() => 0.8 );
		$high = new Retry_Policy( 30, 15, static fn() => 1.2 );
		$this->assertSame( 48, $low->delay( 2, null ) );
		$this->assertSame( 72, $high->delay( 2, null ) );
		$random = new Retry_Policy( 100, 15 );
		for ( $i = 0; $i < 50; $i++ ) {
			$delay = $random->delay( 1, null );
			$this->assertGreaterThanOrEqual( 80, $delay );
			$this->assertLessThanOrEqual( 120, $delay );
		}
	}

	public function test_retry_after_replaces_the_backoff(): void {
		$policy = new Retry_Policy( 30, 15, static fn() => 1.0 );
		$this->assertSame( 5, $policy->delay( 8, 5 ) );
		$this->assertSame( 1, $policy->delay( 1, 0 ) );
		$this->assertSame( Retry_Policy::MAX_RETRY_AFTER, $policy->delay( 1, 10 ** 9 ) );

		$next = $policy->next( 3, self::answer( 503, array( 'error' => 'overloaded' ), '7' ), self::NOW );
		$this->assertSame( array( 'state' => Outbox::RETRYING, 'next_attempt_at' => self::NOW + 7 ), $next );
	}

	public function test_states_after_an_attempt(): void {
		$policy = new Retry_Policy( 30, 3, static fn() => 1.0 );
		$this->assertSame( Outbox::SENT, $policy->next( 1, self::answer( 202, array( 'status' => 'accepted' ) ), self::NOW )['state'] );
		$this->assertSame( Outbox::SENT, $policy->next( 2, self::answer( 200, array( 'status' => 'duplicate' ) ), self::NOW )['state'] );
		$this->assertSame( Outbox::FAILED, $policy->next( 1, self::answer( 401, array( 'error' => 'bad_signature' ) ), self::NOW )['state'] );
		$this->assertSame(
			array( 'state' => Outbox::RETRYING, 'next_attempt_at' => self::NOW + 60 ),
			$policy->next( 2, Outcome::from_transport_error( 'refused' ), self::NOW )
		);
		// Out of attempts: failed, and a person can retry it from the admin.
		$this->assertSame( Outbox::FAILED, $policy->next( 3, Outcome::from_transport_error( 'refused' ), self::NOW )['state'] );
	}

	public function test_the_sender_stops_a_run_when_the_gateway_itself_is_unavailable(): void {
		$this->assertTrue( Sender::gateway_unavailable( Outcome::from_transport_error( 'refused' ) ) );
		$this->assertTrue( Sender::gateway_unavailable( self::answer( 503, array( 'error' => 'overloaded' ) ) ) );
		$this->assertTrue( Sender::gateway_unavailable( self::answer( 429, array( 'error' => 'rate_limited' ) ) ) );
		$this->assertFalse( Sender::gateway_unavailable( self::answer( 429, array( 'error' => 'duplicate_in_progress' ) ) ) );
		$this->assertFalse( Sender::gateway_unavailable( self::answer( 408, array() ) ) );
		$this->assertFalse( Sender::gateway_unavailable( self::answer( 400, array( 'error' => 'invalid_event' ) ) ) );
		$this->assertFalse( Sender::gateway_unavailable( self::answer( 202, array( 'status' => 'accepted' ) ) ) );
	}
}
