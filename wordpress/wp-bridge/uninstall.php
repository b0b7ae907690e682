<?php
/**
 * Removes everything the plugin stored: its table, options and cron events.
 *
 * @package WP_Bridge
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

require_once __DIR__ . '/includes/autoload.php';

\WP_Bridge\Dispatcher::unschedule();
\WP_Bridge\Outbox::drop();
delete_option( \WP_Bridge\Settings::OPTION );
delete_option( \WP_Bridge\Settings::SECRET_OPTION );
delete_option( 'wp_bridge_schema_version' );
delete_metadata( 'user', 0, 'wp_bridge_test_result', '', true );
