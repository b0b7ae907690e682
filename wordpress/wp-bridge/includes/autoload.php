<?php
/**
 * Loads the plugin's classes on first use.
 *
 * @package WP_Bridge
 */

defined( 'ABSPATH' ) || exit;

spl_autoload_register(
	static function ( string $class ): void {
		$prefix = 'WP_Bridge\\';
		if ( 0 !== strpos( $class, $prefix ) ) {
			return;
		}
		// WP_Bridge\Integrations\Lead_Form → integrations/class-lead-form.php.
		$parts = explode( '\\', substr( $class, strlen( $prefix ) ) );
		$name  = array_pop( $parts );
		$dir   = '' === implode( '', $parts ) ? '' : strtolower( implode( '/', $parts ) ) . '/';
		$file  = __DIR__ . '/' . $dir . 'class-' . strtolower( str_replace( '_', '-', $name ) ) . '.php';
		if ( is_readable( $file ) ) {
			require_once $file;
		}
	}
);
