<?php
/**
 * Plugin Name:       wp-bridge
 * Description:       Sends comments, WooCommerce orders and form leads, signed, to a wp-bridge gateway, which delivers them to Slack, HubSpot and OpenAI. Events wait in an outbox and are retried until the gateway has them.
 * Version:           1.0.0
 * Requires at least: 6.1
 * Requires PHP:      8.1
 * Author:            wp-bridge
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       wp-bridge
 * Domain Path:       /languages
 *
 * @package WP_Bridge
 */

defined( 'ABSPATH' ) || exit;

define( 'WP_BRIDGE_VERSION', '1.0.0' );
define( 'WP_BRIDGE_FILE', __FILE__ );

require_once __DIR__ . '/includes/autoload.php';

register_activation_hook( __FILE__, array( \WP_Bridge\Plugin::class, 'activate' ) );
register_deactivation_hook( __FILE__, array( \WP_Bridge\Plugin::class, 'deactivate' ) );

\WP_Bridge\Plugin::boot();

if ( ! function_exists( 'wp_bridge_lead_form' ) ) {
	/**
	 * Prints the lead form, for themes that do not use blocks or shortcodes.
	 *
	 * @param array $args form_id, title, button (as the shortcode's attributes).
	 */
	function wp_bridge_lead_form( array $args = array() ): void {
		echo \WP_Bridge\Integrations\Lead_Form::shortcode( $args ); // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- escaped where it is built.
	}
}
