<?php
/**
 * Value fitting shared by every payload, and the comment policy.
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;
use WP_Bridge\Integrations\Comments;
use WP_Bridge\Settings;
use WP_Bridge\Text;

final class TextTest extends TestCase {

	public function test_email_check_matches_the_gateways(): void {
		foreach ( array( 'ada@example.com', 'a+b@sub.example.co', 'üser@exämple.de' ) as $ok ) {
			$this->assertTrue( Text::is_email( $ok ), $ok );
		}
		foreach ( array( '', 'no-at', '@example.com', 'a@example', 'a@.example.com', 'a@example.com.', 'a@exa..mple.com', 'a b@example.com', "a\n@example.com", str_repeat( 'l', 65 ) . '@example.com' ) as $bad ) {
			$this->assertFalse( Text::is_email( $bad ), $bad );
		}
	}

	public function test_decimals(): void {
		$this->assertSame( '49.90', Text::decimal( '49.9', 2 ) );
		$this->assertSame( '49.90', Text::decimal( 49.9, 2 ) );
		$this->assertSame( '0.00', Text::decimal( '', 2 ) );
		$this->assertSame( '0.00', Text::decimal( '-5', 2 ) );
		$this->assertSame( '1.2345', Text::decimal( '1.2345', 2 ) );
		$this->assertSame( '10', Text::decimal( '10', 0 ) );
		$this->assertSame( '1000.50', Text::decimal( ' 1000.5 ', 2 ) );
	}

	public function test_text_is_cut_by_characters_and_loses_nul(): void {
		$this->assertSame( 'ab', Text::clean( "a\0b" ) );
		$this->assertSame( 'éé', Text::clean( 'ééé', 2 ) );
		$this->assertSame( '', Text::clean( array( 'x' ) ) );
		$this->assertSame( '12', Text::clean( 12 ) );
	}

	public function test_dates_are_rfc3339_utc(): void {
		$this->assertSame( '2026-12-04T10:00:00Z', Text::rfc3339_from_gmt( '2026-12-04 10:00:00', 0 ) );
		$this->assertSame( '1970-01-01T00:01:40Z', Text::rfc3339_from_gmt( '0000-00-00 00:00:00', 100 ) );
		$this->assertSame( '1970-01-01T00:01:40Z', Text::rfc3339_from_gmt( null, 100 ) );
	}

	public function test_urls(): void {
		$this->assertTrue( Text::is_http_url( 'https://shop.example/contact/?a=1' ) );
		$this->assertTrue( Text::is_http_url( 'http://127.0.0.1:8080/' ) );
		$this->assertFalse( Text::is_http_url( '/contact/' ) );
		$this->assertFalse( Text::is_http_url( 'javascript:alert(1)' ) );
		$this->assertFalse( Text::is_http_url( 'ftp://x.example/' ) );
		$this->assertFalse( Text::is_http_url( 'https://x.example/a b' ) );
	}

	public function test_slugs(): void {
		$this->assertSame( 'processing', Text::slug( 'processing' ) );
		$this->assertSame( 'wc-on-hold', Text::slug( 'WC-On-Hold' ) );
		$this->assertSame( 'unknown', Text::slug( '' ) );
		$this->assertSame( 32, strlen( Text::slug( str_repeat( 'a', 40 ) ) ) );
	}

	/**
	 * @return array<string,array{0:string,1:string,2:bool}>
	 */
	public static function comment_states(): array {
		return array(
			'approved, default policy'        => array( '1', Settings::COMMENTS_APPROVED, true ),
			'pending, default policy'         => array( '0', Settings::COMMENTS_APPROVED, false ),
			'spam, default policy'            => array( 'spam', Settings::COMMENTS_APPROVED, false ),
			'approved, pending policy'        => array( '1', Settings::COMMENTS_PENDING, true ),
			'pending, pending policy'         => array( '0', Settings::COMMENTS_PENDING, true ),
			'spam, pending policy'            => array( 'spam', Settings::COMMENTS_PENDING, false ),
			'spam, all policy'                => array( 'spam', Settings::COMMENTS_ALL, true ),
			'trash, all policy'               => array( 'trash', Settings::COMMENTS_ALL, false ),
			'approved, unknown policy'        => array( '1', 'bogus', true ),
			'pending, unknown policy'         => array( '0', 'bogus', false ),
		);
	}

	/**
	 * @dataProvider comment_states
	 */
	public function test_comment_policy( string $approved, string $policy, bool $sent ): void {
		$this->assertSame( $sent, Comments::allowed( $approved, $policy ) );
	}
}
