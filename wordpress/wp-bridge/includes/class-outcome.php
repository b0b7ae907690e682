<?php
/**
 * What one delivery attempt came to.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * The gateway's answer sorted into done, retry or fail, following the table
 * in docs/wire-format.md.
 */
final class Outcome {

	public const DONE  = 'done';
	public const RETRY = 'retry';
	public const FAIL  = 'fail';

	/** Kept of an answer's body for the admin screen. */
	private const MAX_SUMMARY = 1000;

	/**
	 * Whether this attempt finished the event, should be retried, or cannot
	 * succeed without someone changing something.
	 *
	 * @var string
	 */
	public $kind;

	/**
	 * HTTP status; null when no answer came.
	 *
	 * @var int|null
	 */
	public $status;

	/**
	 * The gateway's `error` code or `status` word, or a transport error code.
	 *
	 * @var string
	 */
	public $code;

	/**
	 * Seconds the gateway asked us to wait, if it did.
	 *
	 * @var int|null
	 */
	public $retry_after;

	/**
	 * The answer's body or the transport error, shortened, for the admin.
	 *
	 * @var string
	 */
	public $summary;

	/**
	 * Outcome.
	 *
	 * @param string      $kind        DONE, RETRY or FAIL.
	 * @param int|null    $status      HTTP status.
	 * @param string      $code        Short code.
	 * @param int|null    $retry_after Seconds.
	 * @param string      $summary     Text for the admin.
	 */
	public function __construct( string $kind, ?int $status, string $code, ?int $retry_after, string $summary ) {
		$this->kind        = $kind;
		$this->status      = $status;
		$this->code        = $code;
		$this->retry_after = $retry_after;
		$this->summary     = Text::clean( $summary, self::MAX_SUMMARY );
	}

	/**
	 * An HTTP answer from the gateway.
	 *
	 * @param int         $status      HTTP status.
	 * @param string      $body        Answer body (JSON from the gateway; anything from a proxy).
	 * @param string|null $retry_after Raw Retry-After header.
	 * @param int         $now         Unix time, for HTTP-date Retry-After values.
	 */
	public static function from_response( int $status, string $body, ?string $retry_after, int $now ): self {
		$json = json_decode( $body, true );
		$code = '';
		if ( is_array( $json ) ) {
			$code = (string) ( $json['error'] ?? $json['status'] ?? '' );
		}
		if ( '' === $code ) {
			$code = 'http_' . $status;
		}
		$code = substr( (string) preg_replace( '/[^a-z0-9_.-]/i', '', $code ), 0, 64 );
		return new self( self::kind_of( $status, $code ), $status, $code, self::parse_retry_after( $retry_after, $now ), $body );
	}

	/**
	 * No answer: refused connection, DNS failure, timeout. The event may or
	 * may not have reached the gateway; a retry with the same id is safe.
	 *
	 * @param string $message Transport error message.
	 */
	public static function from_transport_error( string $message ): self {
		return new self( self::RETRY, null, 'network_error', null, $message );
	}

	/**
	 * Done, retry or fail for a status and error code.
	 *
	 * @param int    $status HTTP status.
	 * @param string $code   The gateway's error code.
	 */
	public static function kind_of( int $status, string $code ): string {
		if ( $status >= 200 && $status < 300 ) {
			return self::DONE;
		}
		if ( 408 === $status || 429 === $status || $status >= 500 ) {
			return self::RETRY;
		}
		// The body was cut in transit: the same request can succeed.
		// A stale timestamp means this server's clock is off; each attempt is
		// signed afresh, so attempts succeed again once the clock is fixed.
		if ( ( 400 === $status && 'incomplete_body' === $code ) || ( 401 === $status && 'stale_timestamp' === $code ) ) {
			return self::RETRY;
		}
		// Other 4xx (bad signature, invalid event…) and redirects (a POST
		// must not be turned into a GET) need a person to change something.
		return self::FAIL;
	}

	/**
	 * Retry-After in seconds: delta-seconds or an HTTP-date.
	 *
	 * @param string|null $value Header value.
	 * @param int         $now   Unix time.
	 */
	public static function parse_retry_after( ?string $value, int $now ): ?int {
		if ( null === $value ) {
			return null;
		}
		$value = trim( $value );
		if ( 1 === preg_match( '/^\d{1,10}$/', $value ) ) {
			return (int) $value;
		}
		if ( '' === $value ) {
			return null;
		}
		$time = strtotime( $value );
		return false === $time ? null : max( 0, $time - $now );
	}
}
