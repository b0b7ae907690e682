<?php
/**
 * Unit tests run the plugin's WordPress-free classes without WordPress:
 * the few core functions they call are stood in for here with the same
 * behaviour for the inputs the tests use.
 *
 * @package WP_Bridge
 */

define( 'ABSPATH', __DIR__ . '/' );

if ( ! function_exists( 'wp_json_encode' ) ) {
	function wp_json_encode( $data, $options = 0, $depth = 512 ) {
		return json_encode( $data, $options, $depth );
	}
}
if ( ! function_exists( 'wp_parse_url' ) ) {
	function wp_parse_url( $url, $component = -1 ) {
		return parse_url( $url, $component );
	}
}

require_once dirname( __DIR__, 2 ) . '/wp-bridge/includes/autoload.php';

/** The repository's shared test data. */
define( 'WP_BRIDGE_TESTDATA', dirname( __DIR__, 3 ) . '/testdata' );
