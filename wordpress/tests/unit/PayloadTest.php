<?php
/**
 * Each event type's data, built from what WordPress, WooCommerce and the
 * form plugins hand to their hooks, and encoded as the gateway expects:
 * the samples in testdata/events are reproduced byte for byte.
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;
use WP_Bridge\Comment_Payload;
use WP_Bridge\Envelope;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Order_Payload;

require_once __DIR__ . '/Fakes.php';

final class PayloadTest extends TestCase {

	private const NOW = 1796378400; // 2026-12-04T10:00:00Z

	private static function sample( string $name ): array {
		return json_decode( (string) file_get_contents( WP_BRIDGE_TESTDATA . '/events/' . $name . '.json' ), true );
	}

	private static function reencode( string $name, array $data ): string {
		$sample = self::sample( $name );
		return Envelope::encode( $sample['event'], $sample['event_id'], $sample['site'], $data );
	}

	private static function comment( array $overrides = array() ): object {
		return (object) array_merge(
			array(
				'comment_ID'           => '17',
				'comment_post_ID'      => '4',
				'comment_author'       => 'Ada Lovelace',
				'comment_author_email' => 'ada@example.com',
				'comment_content'      => 'Lovely post, thank you!',
				'comment_date_gmt'     => '2026-12-04 10:00:00',
				'comment_author_IP'    => '192.0.2.1',
				'comment_agent'        => 'Mozilla/5.0',
			),
			$overrides
		);
	}

	private static function order( array $overrides = array() ): Fake_Order {
		return new Fake_Order(
			array_merge(
				array(
					'id'                 => 1042,
					'status'             => 'processing',
					'total'              => '59.80',
					'currency'           => 'EUR',
					'billing_email'      => 'grace@example.com',
					'billing_first_name' => 'Grace',
					'billing_last_name'  => 'Hopper',
					'items'              => array( 5 => new Fake_Order_Item( 7, 'Mug', 2, '29.90' ) ),
					'date_created'       => new DateTimeImmutable( '2026-12-04T10:05:00+01:00' ),
				),
				$overrides
			)
		);
	}

	public function test_comment_matches_the_sample_event(): void {
		$data = Comment_Payload::from_comment( self::comment(), self::NOW );
		$this->assertSame( file_get_contents( WP_BRIDGE_TESTDATA . '/events/comment.json' ), self::reencode( 'comment', $data ) . "\n" );
	}

	public function test_comment_sends_no_ip_or_user_agent(): void {
		$body = json_encode( Comment_Payload::from_comment( self::comment(), self::NOW ) );
		$this->assertStringNotContainsString( '192.0.2.1', $body );
		$this->assertStringNotContainsString( 'Mozilla', $body );
	}

	public function test_comment_without_a_valid_email_leaves_it_out(): void {
		foreach ( array( '', 'not-an-address', 'a b@example.com' ) as $email ) {
			$data = Comment_Payload::from_comment( self::comment( array( 'comment_author_email' => $email ) ), self::NOW );
			$this->assertSame( array( 'name' => 'Ada Lovelace' ), $data['author'], $email );
		}
	}

	public function test_comment_fits_the_schemas_limits(): void {
		$data = Comment_Payload::from_comment(
			self::comment(
				array(
					'comment_author'   => str_repeat( 'é', 600 ),
					'comment_content'  => "a\0b" . str_repeat( 'x', 70000 ),
					'comment_date_gmt' => '0000-00-00 00:00:00',
				)
			),
			self::NOW
		);
		$this->assertSame( 512, mb_strlen( $data['author']['name'] ) );
		$this->assertSame( 65535, mb_strlen( $data['content'] ) );
		$this->assertStringStartsWith( 'abx', $data['content'] );
		$this->assertSame( '2026-12-04T10:00:00Z', $data['created_at'] );
	}

	public function test_order_matches_the_sample_event(): void {
		$data = Order_Payload::from_order( self::order(), 2, self::NOW );
		$this->assertSame( file_get_contents( WP_BRIDGE_TESTDATA . '/events/order.json' ), self::reencode( 'order', $data ) . "\n" );
	}

	public function test_order_money_is_a_decimal_string_never_a_float(): void {
		$data = Order_Payload::from_order(
			self::order(
				array(
					'total' => 59.8,
					'items' => array( new Fake_Order_Item( 7, 'Mug', '2', 29.9 ), new Fake_Order_Item( 8, 'Tea', 1, '0' ) ),
				)
			),
			2,
			self::NOW
		);
		$this->assertSame( '59.80', $data['total'] );
		$this->assertSame( array( '29.90', '0.00' ), array_column( $data['line_items'], 'total' ) );
		$this->assertSame( array( 2, 1 ), array_column( $data['line_items'], 'quantity' ) );
		$this->assertStringContainsString( '"total":"59.80"', Envelope::encode( 'order.created', 'e', 'https://shop.example', $data ) );
	}

	public function test_order_normalises_status_and_currency(): void {
		$data = Order_Payload::from_order( self::order( array( 'status' => 'On Hold!', 'currency' => 'usd' ) ), 0, self::NOW );
		$this->assertSame( 'onhold', $data['status'] );
		$this->assertSame( 'USD', $data['currency'] );
		$this->assertSame( '60', Order_Payload::from_order( self::order( array( 'total' => 59.8 ) ), 0, self::NOW )['total'] );
	}

	public function test_order_without_a_billing_email_is_not_an_event(): void {
		$this->assertNull( Order_Payload::from_order( self::order( array( 'billing_email' => '' ) ), 2, self::NOW ) );
	}

	public function test_order_line_items_are_a_list_even_when_empty(): void {
		$data = Order_Payload::from_order( self::order( array( 'items' => array() ) ), 2, self::NOW );
		$this->assertStringContainsString( '"line_items":[]', Envelope::encode( 'order.created', 'e', 'https://shop.example', $data ) );
	}

	public function test_lead_matches_the_sample_event(): void {
		$data = Lead_Payload::build(
			12,
			'Contact us',
			array(
				'name'    => 'Alan Turing',
				'message' => 'Please call me back.',
			),
			'alan@example.com',
			'https://shop.example/contact/',
			'https://shop.example/',
			strtotime( '2026-12-04T11:00:00Z' )
		);
		$this->assertSame( file_get_contents( WP_BRIDGE_TESTDATA . '/events/lead.json' ), self::reencode( 'lead', $data ) . "\n" );
	}

	public function test_lead_fields_are_an_object_of_strings(): void {
		$data = Lead_Payload::build( 'f', 'T', array(), null, 'https://x.example/', 'https://x.example/', self::NOW );
		$this->assertStringContainsString( '"fields":{}', json_encode( $data ) );

		$data = Lead_Payload::build( 'f', 'T', array( 'a', 'b' ), null, 'https://x.example/', 'https://x.example/', self::NOW );
		$this->assertStringContainsString( '"fields":{"0":"a","1":"b"}', json_encode( $data ) );

		$data = Lead_Payload::build( 'f', 'T', array( 'colours' => array( 'red', array( 'blue' ) ), 'n' => 3, 'yes' => true ), null, '', 'https://x.example/', self::NOW );
		$this->assertSame( array( 'colours' => 'red, blue', 'n' => '3', 'yes' => '1' ), (array) $data['fields'] );
		$this->assertSame( 'https://x.example/', $data['source_url'] );
	}

	public function test_lead_form_ids_are_integers_or_short_strings(): void {
		$id = static fn( $form_id ) => Lead_Payload::build( $form_id, 'T', array(), null, 'https://x.example/', 'https://x.example/', self::NOW )['form_id'];
		$this->assertSame( 12, $id( 12 ) );
		$this->assertSame( 12, $id( '12' ) );
		$this->assertSame( 'contact', $id( 'contact' ) );
		$this->assertSame( 'unknown', $id( '' ) );
		$this->assertSame( '-3', $id( -3 ) );
		$this->assertSame( 64, mb_strlen( $id( str_repeat( 'x', 100 ) ) ) );
	}

	public function test_lead_keeps_both_fields_with_one_label_and_caps_the_count(): void {
		$fields = array();
		for ( $i = 0; $i < 250; $i++ ) {
			$fields[ 'f' . $i ] = 'v';
		}
		$this->assertCount( 200, (array) Lead_Payload::build( 'f', 'T', $fields, null, '', 'https://x.example/', self::NOW )['fields'] );
	}

	public function test_contact_form_7_submission(): void {
		$data = Lead_Payload::from_contact_form_7(
			7,
			'Contact form 1',
			array(
				'your-name'    => 'Alan Turing',
				'your-email'   => 'alan@example.com',
				'your-subject' => 'Hello',
				'checkbox-1'   => array( 'Phone', 'Email' ),
				'_wpcf7'       => '7',
			),
			'https://shop.example/contact/',
			'https://shop.example/',
			self::NOW
		);
		$this->assertSame( 7, $data['form_id'] );
		$this->assertSame( 'Contact form 1', $data['form_title'] );
		$this->assertSame(
			array(
				'your-name'    => 'Alan Turing',
				'your-email'   => 'alan@example.com',
				'your-subject' => 'Hello',
				'checkbox-1'   => 'Phone, Email',
			),
			(array) $data['fields']
		);
		$this->assertSame( 'alan@example.com', $data['email'] );
		$this->assertSame( 'https://shop.example/contact/', $data['source_url'] );
		$this->assertSame( '2026-12-04T10:00:00Z', $data['created_at'] );
	}

	public function test_wpforms_submission(): void {
		$fields    = array(
			0 => array( 'name' => 'Name', 'value' => 'Grace Hopper', 'id' => 0, 'type' => 'name' ),
			1 => array( 'name' => 'Contact', 'value' => 'grace@example.com', 'id' => 1, 'type' => 'email' ),
			2 => array( 'name' => '', 'value' => 'Call me', 'id' => 2, 'type' => 'textarea' ),
			3 => array( 'name' => 'Divider', 'id' => 3, 'type' => 'divider' ),
		);
		$form_data = array(
			'id'       => 55,
			'settings' => array( 'form_title' => 'Quote request' ),
		);
		$data      = Lead_Payload::from_wpforms( $fields, $form_data, 'https://shop.example/quote/', 'https://shop.example/', self::NOW );
		$this->assertSame( 55, $data['form_id'] );
		$this->assertSame( 'Quote request', $data['form_title'] );
		$this->assertSame(
			array(
				'Name'    => 'Grace Hopper',
				'Contact' => 'grace@example.com',
				'field_2' => 'Call me',
			),
			(array) $data['fields']
		);
		$this->assertSame( 'grace@example.com', $data['email'] );
		$this->assertSame( 'https://shop.example/quote/', $data['source_url'] );
	}

	public function test_gravity_forms_submission(): void {
		$entry = array(
			'id'           => '301',
			'form_id'      => '3',
			'1.3'          => 'Ada',
			'1.6'          => 'Lovelace',
			'2'            => 'ada@example.com',
			'3'            => 'Tell me more',
			'4.1'          => 'Newsletter',
			'4.2'          => '',
			'source_url'   => 'https://blog.example/contact/',
			'date_created' => '2026-12-04 09:30:00',
		);
		$form  = array(
			'id'     => 3,
			'title'  => 'Contact',
			'fields' => array(
				new Fake_GF_Name_Field(),
				(object) array( 'id' => 2, 'type' => 'email', 'label' => 'Email' ),
				(object) array( 'id' => 3, 'type' => 'textarea', 'label' => 'Message' ),
				(object) array( 'id' => 4, 'type' => 'checkbox', 'label' => 'Interests', 'inputs' => array( array( 'id' => '4.1' ), array( 'id' => '4.2' ) ) ),
				(object) array( 'id' => 5, 'type' => 'html', 'label' => 'Intro' ),
				(object) array( 'id' => 6, 'type' => 'text', 'label' => 'Left empty' ),
			),
		);
		$data  = Lead_Payload::from_gravity_forms( $entry, $form, 'https://blog.example/', self::NOW );
		$this->assertSame( 3, $data['form_id'] );
		$this->assertSame( 'Contact', $data['form_title'] );
		$this->assertSame(
			array(
				'Name'      => 'Ada Lovelace',
				'Email'     => 'ada@example.com',
				'Message'   => 'Tell me more',
				'Interests' => 'Newsletter',
			),
			(array) $data['fields']
		);
		$this->assertSame( 'ada@example.com', $data['email'] );
		$this->assertSame( 'https://blog.example/contact/', $data['source_url'] );
		$this->assertSame( '2026-12-04T09:30:00Z', $data['created_at'] );
	}
}
