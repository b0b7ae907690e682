<?php
/**
 * The plugin signs exactly as the Rust gateway verifies, checked against the
 * vectors the Rust code generates (testdata/signature-vectors.json).
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;
use WP_Bridge\Signer;

final class SignatureVectorsTest extends TestCase {

	/**
	 * Every vector, by name.
	 *
	 * @return array<string,array{0: array}>
	 */
	public static function vectors(): array {
		$file = WP_BRIDGE_TESTDATA . '/signature-vectors.json';
		$json = json_decode( (string) file_get_contents( $file ), true, 512, JSON_THROW_ON_ERROR );
		$out  = array();
		foreach ( $json['vectors'] as $vector ) {
			$out[ $vector['name'] ] = array( $vector, (int) $json['tolerance_secs'] );
		}
		return $out;
	}

	public function test_the_vector_file_covers_every_outcome(): void {
		$expected = array_unique( array_map( static fn( $v ) => $v[0]['expected'], self::vectors() ) );
		sort( $expected );
		$this->assertSame( array( 'bad_signature', 'invalid_timestamp', 'missing_header', 'stale_timestamp', 'valid' ), $expected );
		$this->assertGreaterThanOrEqual( 15, count( self::vectors() ) );
	}

	/**
	 * @dataProvider vectors
	 */
	public function test_a_verifier_using_the_plugins_signer_reaches_the_expected_outcome( array $vector, int $tolerance ): void {
		$this->assertSame(
			$vector['expected'],
			self::verify( $vector['secrets'], (int) $vector['now'], $tolerance, $vector['timestamp'], $vector['signature'], $vector['body'] )['outcome']
		);
	}

	/**
	 * @dataProvider vectors
	 */
	public function test_the_plugin_reproduces_every_valid_signature_with_the_signing_key( array $vector ): void {
		if ( 'valid' !== $vector['expected'] ) {
			// The other vectors are about a verifier refusing bad input.
			$this->assertNotSame( 'valid', $vector['expected'] );
			return;
		}
		$secret = $vector['secrets'][ $vector['key_index'] ];
		$this->assertSame( $vector['signature'], Signer::sign( $secret, $vector['timestamp'], $vector['body'] ) );
		$this->assertSame( $vector['key_index'], self::verify( $vector['secrets'], (int) $vector['now'], 300, $vector['timestamp'], $vector['signature'], $vector['body'] )['key_index'] );

		$headers = Signer::headers( $secret, 'v-1', $vector['body'], (int) $vector['timestamp'] );
		$this->assertSame( $vector['timestamp'], $headers['X-WP-Timestamp'] );
		$this->assertSame( $vector['signature'], $headers['X-WP-Signature'] );
	}

	public function test_headers_carry_the_event_id_and_json_content_type(): void {
		$headers = Signer::headers( 'wp-bridge-test-secret-0001', 'evt-42', '{}', 1700000123 );
		$this->assertSame(
			array( 'Content-Type', 'X-WP-Timestamp', 'X-WP-Signature', 'X-Event-Id' ),
			array_keys( $headers )
		);
		$this->assertSame( 'application/json', $headers['Content-Type'] );
		$this->assertSame( '1700000123', $headers['X-WP-Timestamp'] );
		$this->assertSame( 'evt-42', $headers['X-Event-Id'] );
		$this->assertMatchesRegularExpression( '~^[A-Za-z0-9+/]{43}=$~', $headers['X-WP-Signature'] );
	}

	public function test_each_attempt_is_signed_afresh_for_the_same_body(): void {
		$first  = Signer::headers( 'wp-bridge-test-secret-0001', 'evt', '{"a":1}', 1700000000 );
		$second = Signer::headers( 'wp-bridge-test-secret-0001', 'evt', '{"a":1}', 1700000030 );
		$this->assertNotSame( $first['X-WP-Signature'], $second['X-WP-Signature'] );
		$this->assertSame( $first['X-Event-Id'], $second['X-Event-Id'] );
	}

	public function test_the_first_of_a_comma_separated_list_signs_as_on_the_gateway(): void {
		$this->assertSame( 'new-secret-0123456789', Signer::signing_secret( ' new-secret-0123456789 , old-secret-0123456789' ) );
		$this->assertSame( 'only-secret-0123456789', Signer::signing_secret( 'only-secret-0123456789' ) );
		$this->assertSame( '', Signer::signing_secret( '' ) );
	}

	/**
	 * The gateway's rules (docs/security.md, docs/wire-format.md) in PHP,
	 * with the plugin's own Signer computing each candidate tag.
	 *
	 * @return array{outcome: string, key_index: int|null}
	 */
	private static function verify( array $secrets, int $now, int $tolerance, string $timestamp, string $signature, string $body ): array {
		$result = static fn( string $outcome, ?int $key = null ) => array(
			'outcome'   => $outcome,
			'key_index' => $key,
		);
		if ( '' === $timestamp || '' === $signature ) {
			return $result( 'missing_header' );
		}
		if ( 1 !== preg_match( '/^[0-9]{1,11}$/', $timestamp ) ) {
			return $result( 'invalid_timestamp' );
		}
		if ( abs( $now - (int) $timestamp ) > $tolerance ) {
			return $result( 'stale_timestamp' );
		}
		$tag = base64_decode( $signature, true );
		if ( false === $tag || 32 !== strlen( $tag ) || base64_encode( $tag ) !== $signature ) {
			return $result( 'bad_signature' );
		}
		foreach ( $secrets as $index => $secret ) {
			if ( hash_equals( Signer::sign( $secret, $timestamp, $body ), $signature ) ) {
				return $result( 'valid', $index );
			}
		}
		return $result( 'bad_signature' );
	}
}
