<?php
/**
 * When to try an event again, and when to give up.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Exponential backoff with jitter, overridden by the gateway's Retry-After.
 */
final class Retry_Policy {

	/** The longest wait between two attempts. */
	public const MAX_DELAY = 3600;

	/** The longest Retry-After obeyed (a broken proxy might say a year). */
	public const MAX_RETRY_AFTER = 6 * 3600;

	/**
	 * First delay in seconds.
	 *
	 * @var int
	 */
	private $base;

	/**
	 * Attempts before an event is marked failed.
	 *
	 * @var int
	 */
	private $max_attempts;

	/**
	 * Returns a random factor in [0.8, 1.2].
	 *
	 * @var callable
	 */
	private $jitter;

	/**
	 * Policy.
	 *
	 * @param int           $base         First delay (seconds).
	 * @param int           $max_attempts Attempts before giving up.
	 * @param callable|null $jitter       Returns the jitter factor; random by default.
	 */
	public function __construct( int $base = 30, int $max_attempts = 15, ?callable $jitter = null ) {
		$this->base         = max( 1, $base );
		$this->max_attempts = max( 1, $max_attempts );
		$this->jitter       = $jitter ?? static function (): float {
			return random_int( 800, 1200 ) / 1000;
		};
	}

	/**
	 * Seconds to wait after the $attempts-th failed attempt.
	 *
	 * Jitter spreads the retries of many sites that lost the gateway at once.
	 *
	 * @param int      $attempts    Attempts made so far (≥ 1).
	 * @param int|null $retry_after The gateway's Retry-After, if any.
	 */
	public function delay( int $attempts, ?int $retry_after ): int {
		if ( null !== $retry_after ) {
			return max( 1, min( self::MAX_RETRY_AFTER, $retry_after ) );
		}
		$exponent = min( 20, max( 0, $attempts - 1 ) );
		$backoff  = min( self::MAX_DELAY, $this->base * ( 2 ** $exponent ) );
		return max( 1, (int) round( $backoff * ( $this->jitter )() ) );
	}

	/**
	 * The row's next state after an attempt.
	 *
	 * @param int     $attempts Attempts made, including this one.
	 * @param Outcome $outcome  What this attempt came to.
	 * @param int     $now      Unix time.
	 * @return array{state: string, next_attempt_at: int}
	 */
	public function next( int $attempts, Outcome $outcome, int $now ): array {
		if ( Outcome::DONE === $outcome->kind ) {
			return array(
				'state'           => Outbox::SENT,
				'next_attempt_at' => 0,
			);
		}
		if ( Outcome::FAIL === $outcome->kind || $attempts >= $this->max_attempts ) {
			return array(
				'state'           => Outbox::FAILED,
				'next_attempt_at' => 0,
			);
		}
		return array(
			'state'           => Outbox::RETRYING,
			'next_attempt_at' => $now + $this->delay( $attempts, $outcome->retry_after ),
		);
	}
}
