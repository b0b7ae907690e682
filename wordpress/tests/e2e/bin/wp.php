<?php
/**
 * Drives the test site from the command line through WordPress's own API:
 *   php wp.php <command> '<json arguments>'
 * Loads the site named by WP_BRIDGE_E2E_SITE and prints one JSON result.
 * Being a command-line run, anything it queues is sent by the plugin at
 * shutdown, before this process exits.
 *
 * @package WP_Bridge
 */

use WP_Bridge\Client;
use WP_Bridge\Dispatcher;
use WP_Bridge\Outbox;
use WP_Bridge\Settings;

$command = $argv[1] ?? '';
$args    = json_decode( $argv[2] ?? '{}', true ) ?? array();
$site    = getenv( 'WP_BRIDGE_E2E_SITE' );
if ( ! $site ) {
	fwrite( STDERR, "WP_BRIDGE_E2E_SITE is not set\n" );
	exit( 2 );
}
if ( 'install' === $command ) {
	define( 'WP_INSTALLING', true );
}
$_SERVER['HTTP_HOST']   = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
require $site . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';

$out = static function ( $value ): void {
	echo json_encode( $value, JSON_UNESCAPED_SLASHES ), "\n";
};

switch ( $command ) {
	case 'install':
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$installed = wp_install( 'wp-bridge e2e', 'admin', 'admin@example.com', false, '', 'e2e-admin-password' );
		foreach (
			array(
				// Notification mails stall on reverse DNS here; the tests need none.
				'comments_notify'             => 0,
				'moderation_notify'           => 0,
				'comment_moderation'          => 0,
				'comment_previously_approved' => 0,
				'close_comments_for_old_posts' => 0,
			) as $option => $value
		) {
			update_option( $option, $value );
		}
		// Plain links: `php -S` has no rewrite rules.
		$GLOBALS['wp_rewrite']->set_permalink_structure( '' );
		switch_theme( 'wp-bridge-e2e' );
		$activated = activate_plugin( 'wp-bridge/wp-bridge.php' );
		if ( is_wp_error( $activated ) ) {
			fwrite( STDERR, $activated->get_error_message() . "\n" );
			exit( 1 );
		}
		update_option(
			Settings::OPTION,
			array_merge( Settings::defaults(), array( 'gateway_url' => $args['gateway_url'] ) )
		);
		$post_id = wp_insert_post(
			array(
				'post_title'   => 'Hello from the test',
				'post_content' => 'A post to comment on.',
				'post_status'  => 'publish',
				'post_author'  => $installed['user_id'],
			)
		);
		$page_id = wp_insert_post(
			array(
				'post_type'    => 'page',
				'post_title'   => 'Contact',
				'post_content' => '[wp_bridge_lead_form form_id="contact" title="Contact us"]',
				'post_status'  => 'publish',
				'post_author'  => $installed['user_id'],
			)
		);
		$out(
			array(
				'post_id'  => $post_id,
				'page_id'  => $page_id,
				'page_url' => get_permalink( $page_id ),
			)
		);
		break;

	case 'status':
		global $wpdb;
		$out(
			array(
				'active'        => is_plugin_active( 'wp-bridge/wp-bridge.php' ),
				'table'         => Outbox::table() === $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Outbox::table() ) ),
				'secret_source' => Settings::secret_source(),
				'gateway_url'   => Settings::gateway_url(),
				'cron_send'     => (bool) wp_next_scheduled( Dispatcher::CRON_SEND ),
				'cron_purge'    => (bool) wp_next_scheduled( Dispatcher::CRON_PURGE ),
				'sapi'          => PHP_SAPI,
			)
		);
		break;

	case 'comment':
		if ( isset( $args['approved'] ) ) {
			// What moderation or an anti-spam plugin would decide.
			add_filter( 'pre_comment_approved', static fn() => $args['approved'], 99 );
		}
		$id = wp_new_comment(
			array(
				'comment_post_ID'      => (int) $args['post_id'],
				'comment_author'       => $args['author'],
				'comment_author_email' => $args['email'],
				'comment_author_url'   => '',
				'comment_author_IP'    => $args['ip'],
				'comment_agent'        => 'wp-bridge-e2e',
				'comment_content'      => $args['content'],
				'comment_type'         => 'comment',
			),
			true
		);
		if ( is_wp_error( $id ) ) {
			fwrite( STDERR, $id->get_error_code() . ': ' . $id->get_error_message() . "\n" );
			exit( 1 );
		}
		$out(
			array(
				'comment_id' => $id,
				'approved'   => get_comment( $id )->comment_approved,
			)
		);
		break;

	case 'approve':
		wp_set_comment_status( (int) $args['comment_id'], 'approve' );
		$out( array( 'approved' => get_comment( (int) $args['comment_id'] )->comment_approved ) );
		break;

	case 'place-order':
		// Classic checkout fires both hooks for one order, in this order.
		$order = function_exists( 'wc_get_order' ) ? wc_get_order( (int) $args['order_id'] ) : null;
		do_action( 'woocommerce_new_order', (int) $args['order_id'], $order );
		do_action( 'woocommerce_checkout_order_processed', (int) $args['order_id'], array(), $order );
		if ( $order ) {
			do_action( 'woocommerce_store_api_checkout_order_processed', $order );
		}
		$out( array( 'integration' => has_action( 'woocommerce_new_order' ) ) );
		break;

	case 'send-action':
		do_action( 'wp_bridge_send', $args['type'], $args['data'], $args['options'] ?? array() );
		$out( array( 'done' => true ) );
		break;

	case 'rows':
		global $wpdb;
		$table = Outbox::table();
		$rows  = $wpdb->get_results( "SELECT * FROM {$table} ORDER BY id", ARRAY_A );
		$out( $rows );
		break;

	case 'set-gateway':
		$settings                = Settings::all();
		$settings['gateway_url'] = $args['url'];
		update_option( Settings::OPTION, $settings );
		$out( array( 'gateway_url' => Settings::gateway_url() ) );
		break;

	case 'cron':
		$out(
			array(
				'now'   => time(),
				'lock'  => get_transient( 'doing_cron' ),
				'next'  => wp_next_scheduled( Dispatcher::CRON_SEND ),
				'ready' => array_keys( wp_get_ready_cron_jobs() ),
			)
		);
		break;

	case 'make-cron-due':
		// As if a minute had passed: the recurring send is due now.
		$next = wp_next_scheduled( Dispatcher::CRON_SEND );
		if ( $next ) {
			wp_unschedule_event( $next, Dispatcher::CRON_SEND );
		}
		wp_schedule_event( time() - 1, Dispatcher::SCHEDULE, Dispatcher::CRON_SEND );
		$out( array( 'due' => wp_next_scheduled( Dispatcher::CRON_SEND ) ) );
		break;

	case 'resend':
		$row = Outbox::find( (int) $args['id'] );
		$o   = Client::attempt( Settings::gateway_url(), Settings::secret(), $row->event_id, $row->body );
		$out(
			array(
				'kind'   => $o->kind,
				'status' => $o->status,
				'code'   => $o->code,
			)
		);
		break;

	case 'age-rows':
		global $wpdb;
		$table = Outbox::table();
		$wpdb->query( $wpdb->prepare( "UPDATE {$table} SET updated_at = updated_at - %d", (int) $args['seconds'] ) );
		$out( array( 'aged' => true ) );
		break;

	case 'purge':
		do_action( Dispatcher::CRON_PURGE );
		$out( array( 'purged' => true ) );
		break;

	case 'uninstall':
		deactivate_plugins( 'wp-bridge/wp-bridge.php' );
		uninstall_plugin( 'wp-bridge/wp-bridge.php' );
		global $wpdb;
		$out(
			array(
				'table'    => (bool) $wpdb->get_var( $wpdb->prepare( 'SHOW TABLES LIKE %s', Outbox::table() ) ),
				'settings' => get_option( Settings::OPTION, null ),
				'schema'   => get_option( 'wp_bridge_schema_version', null ),
				'cron'     => (bool) wp_next_scheduled( Dispatcher::CRON_SEND ),
			)
		);
		break;

	default:
		fwrite( STDERR, "unknown command: {$command}\n" );
		exit( 2 );
}
