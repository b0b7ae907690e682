<?php
/**
 * One signed POST to the gateway.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Sends one attempt and sorts the answer.
 */
final class Client {

	/** Seconds for the whole request, as the gateway answers at once. */
	public const TIMEOUT = 5;

	/**
	 * Posts the body, signed now.
	 *
	 * wp_remote_post, not wp_safe_remote_post: the gateway is often on the
	 * same host or a private network, which the "safe" variant refuses.
	 *
	 * @param string $url      Gateway URL.
	 * @param string $secret   Signing secret.
	 * @param string $event_id The body's event_id.
	 * @param string $body     Exact body.
	 */
	public static function attempt( string $url, string $secret, string $event_id, string $body ): Outcome {
		$response = wp_remote_post(
			$url,
			array(
				'timeout'             => self::TIMEOUT,
				// A redirected POST becomes a GET; a redirect means a wrong URL.
				'redirection'         => 0,
				'headers'             => Signer::headers( $secret, $event_id, $body, time() ),
				'body'                => $body,
				'data_format'         => 'body',
				'user-agent'          => 'wp-bridge/' . WP_BRIDGE_VERSION . '; ' . home_url( '/' ),
				'limit_response_size' => 65536,
			)
		);
		if ( is_wp_error( $response ) ) {
			return Outcome::from_transport_error( $response->get_error_message() );
		}
		$retry_after = wp_remote_retrieve_header( $response, 'retry-after' );
		return Outcome::from_response(
			(int) wp_remote_retrieve_response_code( $response ),
			(string) wp_remote_retrieve_body( $response ),
			is_string( $retry_after ) && '' !== $retry_after ? $retry_after : null,
			time()
		);
	}
}
