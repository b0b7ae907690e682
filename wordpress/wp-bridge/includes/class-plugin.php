<?php
/**
 * Wires the plugin into WordPress.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Registers hooks; each integration only when its plugin is active.
 */
final class Plugin {

	/**
	 * Called once from the main file.
	 */
	public static function boot(): void {
		Dispatcher::register();
		add_action( 'plugins_loaded', array( self::class, 'on_plugins_loaded' ) );
		add_action( 'init', array( self::class, 'load_textdomain' ) );
	}

	/**
	 * Every plugin is loaded: find which integrations apply.
	 */
	public static function on_plugins_loaded(): void {
		if ( get_option( 'wp_bridge_schema_version' ) !== Outbox::SCHEMA_VERSION ) {
			// An update without reactivation, or a copied site.
			Outbox::install();
		}
		Integrations\Comments::register();
		Integrations\Lead_Form::register();
		Integrations\Public_Api::register();
		if ( class_exists( 'WooCommerce' ) && function_exists( 'wc_get_order' ) ) {
			Integrations\WooCommerce::register();
		}
		if ( defined( 'WPCF7_VERSION' ) ) {
			Integrations\Contact_Form_7::register();
		}
		if ( function_exists( 'wpforms' ) ) {
			Integrations\WPForms::register();
		}
		if ( class_exists( 'GFForms' ) ) {
			Integrations\Gravity_Forms::register();
		}
		if ( is_admin() ) {
			Admin\Settings_Page::register();
			Admin\Events_Page::register();
			Admin\Notices::register();
		}
	}

	/**
	 * Translations.
	 */
	public static function load_textdomain(): void {
		load_plugin_textdomain( 'wp-bridge', false, dirname( plugin_basename( WP_BRIDGE_FILE ) ) . '/languages' );
	}

	/**
	 * Activation: the table and the cron events.
	 */
	public static function activate(): void {
		Outbox::install();
		add_option( Settings::OPTION, Settings::defaults() );
		// The minute schedule is added by a filter that may not be hooked yet
		// during activation.
		add_filter( 'cron_schedules', array( Dispatcher::class, 'schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval.CronSchedulesInterval
		Dispatcher::ensure_scheduled();
	}

	/**
	 * Deactivation: stop the cron events; queued events stay for later.
	 */
	public static function deactivate(): void {
		Dispatcher::unschedule();
	}
}
