<?php
/**
 * The JSON body: shape, encoding and the gateway's 64 KiB limit.
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;
use WP_Bridge\Envelope;
use WP_Bridge\Lead_Payload;

final class EnvelopeTest extends TestCase {

	public function test_envelope_shape_and_unescaped_text(): void {
		$body = Envelope::encode( 'lead.created', 'id-1', 'https://x.example', array( 'fields' => (object) array( 'name' => 'Zoë 😀 </script>' ) ) );
		$this->assertSame( '{"event":"lead.created","event_id":"id-1","site":"https://x.example","data":{"fields":{"name":"Zoë 😀 </script>"}}}', $body );
	}

	public function test_unknown_types_are_refused(): void {
		$this->expectException( InvalidArgumentException::class );
		Envelope::encode( 'post.published', 'id', 'https://x.example', array() );
	}

	public function test_invalid_utf8_is_replaced_not_fatal(): void {
		$body = Envelope::encode( 'comment.created', 'id', 'https://x.example', array( 'content' => "caf\xE9" ) );
		$this->assertSame( 'caf�', json_decode( $body, true )['data']['content'] );
	}

	public function test_empty_data_is_an_object(): void {
		$this->assertStringEndsWith( '"data":{}}', Envelope::encode( 'comment.created', 'id', 'https://x.example', array() ) );
	}

	public function test_oversized_bodies_are_cut_to_the_limit_from_the_longest_text(): void {
		$fields = array(
			'short'   => 'keep me',
			'message' => str_repeat( 'ü', 40000 ),
			'notes'   => str_repeat( '"', 20000 ),
		);
		$data   = Lead_Payload::build( 'f', 'T', $fields, null, 'https://x.example/', 'https://x.example/', 0 );
		$body   = Envelope::encode( 'lead.created', 'id', 'https://x.example', $data );
		$this->assertLessThanOrEqual( Envelope::MAX_BYTES, strlen( $body ) );
		$this->assertGreaterThan( Envelope::MAX_BYTES - 1024, strlen( $body ) );
		$decoded = json_decode( $body, true, 512, JSON_THROW_ON_ERROR );
		$this->assertSame( 'keep me', $decoded['data']['fields']['short'] );
		$this->assertStringEndsWith( '…', $decoded['data']['fields']['message'] );
		$this->assertTrue( mb_check_encoding( $decoded['data']['fields']['message'], 'UTF-8' ) );
	}

	public function test_the_same_inputs_give_the_same_bytes(): void {
		$data = array( 'id' => 1, 'content' => 'x' );
		$this->assertSame(
			Envelope::encode( 'comment.created', 'id', 'https://x.example', $data ),
			Envelope::encode( 'comment.created', 'id', 'https://x.example', $data )
		);
	}
}
