<?php
/**
 * Decides when the sender runs: never while a visitor waits.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * After the response where the server can finish it early (PHP-FPM,
 * LiteSpeed), else in a WP-Cron request spawned in the background; every
 * minute from WP-Cron in any case, which picks up retries and anything a
 * crashed request left behind.
 */
final class Dispatcher {

	public const CRON_SEND  = 'wp_bridge_cron_send';
	public const CRON_PURGE = 'wp_bridge_cron_purge';
	public const SCHEDULE   = 'wp_bridge_every_minute';

	/**
	 * Whether this request has queued something.
	 *
	 * @var bool
	 */
	private static $armed = false;

	/**
	 * Hooks the cron events.
	 */
	public static function register(): void {
		add_filter( 'cron_schedules', array( self::class, 'schedules' ) ); // phpcs:ignore WordPress.WP.CronInterval.CronSchedulesInterval -- a minute is the point: retries are due in seconds.
		add_action( self::CRON_SEND, array( self::class, 'cron_send' ) );
		add_action( self::CRON_PURGE, array( self::class, 'cron_purge' ) );
		add_action( 'init', array( self::class, 'ensure_scheduled' ) );
	}

	/**
	 * Adds the one-minute schedule.
	 *
	 * @param array $schedules Schedules.
	 * @return array
	 */
	public static function schedules( $schedules ): array {
		$schedules                   = is_array( $schedules ) ? $schedules : array();
		$schedules[ self::SCHEDULE ] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (wp-bridge)', 'wp-bridge' ),
		);
		return $schedules;
	}

	/**
	 * Schedules the recurring events if they are missing (after a restore,
	 * or a cron option that was wiped).
	 */
	public static function ensure_scheduled(): void {
		if ( ! wp_next_scheduled( self::CRON_SEND ) ) {
			wp_schedule_event( time(), self::SCHEDULE, self::CRON_SEND );
		}
		if ( ! wp_next_scheduled( self::CRON_PURGE ) ) {
			wp_schedule_event( time() + HOUR_IN_SECONDS, 'daily', self::CRON_PURGE );
		}
	}

	/**
	 * Removes the scheduled events (deactivation, uninstall).
	 */
	public static function unschedule(): void {
		wp_clear_scheduled_hook( self::CRON_SEND );
		wp_clear_scheduled_hook( self::CRON_SEND, array( 'now' ) );
		wp_clear_scheduled_hook( self::CRON_PURGE );
	}

	/**
	 * Called when an event was queued: send after this request.
	 */
	public static function arm(): void {
		if ( self::$armed ) {
			return;
		}
		self::$armed = true;
		// Late, after WordPress's own shutdown work and output flushing.
		add_action( 'shutdown', array( self::class, 'on_shutdown' ), 100 );
	}

	/**
	 * The end of a request that queued something.
	 */
	public static function on_shutdown(): void {
		if ( self::nobody_waits() ) {
			Sender::run();
			return;
		}
		if ( function_exists( 'fastcgi_finish_request' ) || function_exists( 'litespeed_finish_request' ) ) {
			// The visitor has the whole response and the connection is closed
			// before the first byte goes to the gateway.
			ignore_user_abort( true );
			function_exists( 'fastcgi_finish_request' ) ? fastcgi_finish_request() : litespeed_finish_request();
			Sender::run();
			return;
		}
		self::wake_cron();
	}

	/**
	 * Whether this request has no visitor to slow down: a command line run
	 * (WP-CLI, a script) or WP-Cron itself.
	 */
	private static function nobody_waits(): bool {
		return 'cli' === PHP_SAPI || wp_doing_cron();
	}

	/**
	 * Schedules a send now and starts WP-Cron in the background: spawn_cron
	 * posts to wp-cron.php without waiting for its answer.
	 */
	private static function wake_cron(): void {
		if ( ! wp_next_scheduled( self::CRON_SEND, array( 'now' ) ) ) {
			wp_schedule_single_event( time(), self::CRON_SEND, array( 'now' ) );
		}
		// With a system cron instead, or the redirecting alternate cron that
		// cannot work after output has been sent, the next run picks it up.
		if ( ( defined( 'DISABLE_WP_CRON' ) && DISABLE_WP_CRON ) || ( defined( 'ALTERNATE_WP_CRON' ) && ALTERNATE_WP_CRON ) ) {
			return;
		}
		spawn_cron();
	}

	/**
	 * WP-Cron: send what is due.
	 */
	public static function cron_send(): void {
		Sender::run( 50, 40 );
	}

	/**
	 * WP-Cron: purge finished rows past the retention period.
	 */
	public static function cron_purge(): void {
		Outbox::purge( time() - (int) Settings::all()['retention_days'] * DAY_IN_SECONDS );
	}
}
