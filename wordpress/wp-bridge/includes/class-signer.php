<?php
/**
 * Signs a request the way the gateway verifies it.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * X-WP-Signature = base64(HMAC-SHA256(secret, timestamp + "." + raw body)).
 */
final class Signer {

	/**
	 * The signature of one attempt.
	 *
	 * @param string $secret    Raw secret bytes, exactly as configured on the gateway.
	 * @param string $timestamp Unix seconds of this attempt, as sent in X-WP-Timestamp.
	 * @param string $body      The exact bytes that go on the wire.
	 * @return string Standard base64 with padding.
	 */
	public static function sign( string $secret, string $timestamp, string $body ): string {
		return base64_encode( hash_hmac( 'sha256', $timestamp . '.' . $body, $secret, true ) ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_encode -- the wire format is base64.
	}

	/**
	 * Headers of one attempt. Each attempt gets a fresh timestamp (the gateway
	 * refuses anything older than its window) but keeps the event id, which
	 * is what the gateway deduplicates on.
	 *
	 * @param string $secret   Signing secret.
	 * @param string $event_id The body's event_id.
	 * @param string $body     The exact body.
	 * @param int    $now      Unix time of this attempt.
	 * @return array<string,string>
	 */
	public static function headers( string $secret, string $event_id, string $body, int $now ): array {
		$timestamp = (string) $now;
		return array(
			'Content-Type'   => 'application/json',
			'X-WP-Timestamp' => $timestamp,
			'X-WP-Signature' => self::sign( $secret, $timestamp, $body ),
			'X-Event-Id'     => $event_id,
		);
	}

	/**
	 * The secret to sign with, from what an operator configured. The gateway
	 * takes a comma-separated list whose first entry signs, so an operator
	 * who pastes the gateway's whole list still signs with the right key.
	 *
	 * @param string $configured Raw configured value.
	 * @return string Empty when nothing usable is configured.
	 */
	public static function signing_secret( string $configured ): string {
		$parts = explode( ',', $configured );
		return trim( $parts[0] );
	}
}
