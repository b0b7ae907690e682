<?php
/**
 * Facts about the current request that events need.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Where a form was sent from.
 */
final class Request {

	/**
	 * The page a form was on: the referer when it is on this site (forms
	 * posting through admin-ajax.php or admin-post.php), else this request's
	 * own URL (forms posting to their own page), else the home page.
	 */
	public static function source_url(): string {
		$referer = wp_get_raw_referer();
		if ( is_string( $referer ) && '' !== $referer ) {
			$valid = wp_validate_redirect( $referer, '' );
			if ( '' !== $valid && Text::is_http_url( $valid ) ) {
				return $valid;
			}
		}
		if ( ! wp_doing_ajax() && ! is_admin() && isset( $_SERVER['HTTP_HOST'], $_SERVER['REQUEST_URI'] ) ) {
			$host  = sanitize_text_field( wp_unslash( $_SERVER['HTTP_HOST'] ) );
			$uri   = esc_url_raw( wp_unslash( $_SERVER['REQUEST_URI'] ) );
			$here  = set_url_scheme( 'http://' . $host . $uri );
			$valid = wp_validate_redirect( $here, '' );
			if ( '' !== $valid && Text::is_http_url( $valid ) ) {
				return $valid;
			}
		}
		return home_url( '/' );
	}
}
