<?php
/**
 * Settings → wp-bridge.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Admin;

use WP_Bridge\Client;
use WP_Bridge\Envelope;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * The settings form (Settings API: options.php checks the nonce and the
 * manage_options capability) and the "Send test event" button.
 */
final class Settings_Page {

	public const SLUG = 'wp-bridge';

	private const TEST_ACTION = 'wp_bridge_send_test';
	private const TEST_META   = 'wp_bridge_test_result';

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ) );
		add_action( 'admin_init', array( self::class, 'settings' ) );
		add_action( 'admin_post_' . self::TEST_ACTION, array( self::class, 'send_test' ) );
	}

	/**
	 * The menu entry.
	 */
	public static function menu(): void {
		add_options_page( __( 'wp-bridge', 'wp-bridge' ), __( 'wp-bridge', 'wp-bridge' ), 'manage_options', self::SLUG, array( self::class, 'render' ) );
	}

	/**
	 * Settings API registration.
	 */
	public static function settings(): void {
		register_setting(
			self::SLUG,
			Settings::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( Settings::class, 'sanitize' ),
				'default'           => Settings::defaults(),
			)
		);
		register_setting(
			self::SLUG,
			Settings::SECRET_OPTION,
			array(
				'type'              => 'string',
				'sanitize_callback' => array( Settings::class, 'sanitize_secret' ),
				'default'           => '',
			)
		);
		add_settings_section( 'wp_bridge_gateway', __( 'Gateway', 'wp-bridge' ), '__return_false', self::SLUG );
		add_settings_field( 'gateway_url', __( 'Gateway URL', 'wp-bridge' ), array( Fields::class, 'gateway_url' ), self::SLUG, 'wp_bridge_gateway', array( 'label_for' => 'wp_bridge_gateway_url' ) );
		add_settings_field( 'secret', __( 'Signing secret', 'wp-bridge' ), array( Fields::class, 'secret' ), self::SLUG, 'wp_bridge_gateway', array( 'label_for' => 'wp_bridge_secret' ) );
		add_settings_section( 'wp_bridge_events', __( 'Events', 'wp-bridge' ), '__return_false', self::SLUG );
		add_settings_field( 'events', __( 'Send', 'wp-bridge' ), array( Fields::class, 'events' ), self::SLUG, 'wp_bridge_events' );
		add_settings_field( 'comment_policy', __( 'Comments awaiting moderation', 'wp-bridge' ), array( Fields::class, 'comment_policy' ), self::SLUG, 'wp_bridge_events' );
		add_settings_section( 'wp_bridge_delivery', __( 'Delivery', 'wp-bridge' ), '__return_false', self::SLUG );
		add_settings_field( 'max_attempts', __( 'Attempts per event', 'wp-bridge' ), array( Fields::class, 'max_attempts' ), self::SLUG, 'wp_bridge_delivery', array( 'label_for' => 'wp_bridge_max_attempts' ) );
		add_settings_field( 'retention_days', __( 'Keep finished events for', 'wp-bridge' ), array( Fields::class, 'retention_days' ), self::SLUG, 'wp_bridge_delivery', array( 'label_for' => 'wp_bridge_retention_days' ) );
	}

	/**
	 * The page.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		?>
		<div class="wrap">
			<h1><?php esc_html_e( 'wp-bridge', 'wp-bridge' ); ?></h1>
			<?php settings_errors(); ?>
			<form method="post" action="options.php">
				<?php
				settings_fields( self::SLUG );
				do_settings_sections( self::SLUG );
				submit_button();
				?>
			</form>
			<hr>
			<h2><?php esc_html_e( 'Send test event', 'wp-bridge' ); ?></h2>
			<p><?php esc_html_e( 'Sends a lead.created event with the form id "wp-bridge-test" to the gateway now and shows its answer. The gateway delivers it to its sinks like any other event.', 'wp-bridge' ); ?></p>
			<?php self::render_test_result(); ?>
			<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
				<input type="hidden" name="action" value="<?php echo esc_attr( self::TEST_ACTION ); ?>">
				<?php wp_nonce_field( self::TEST_ACTION ); ?>
				<?php submit_button( __( 'Send test event', 'wp-bridge' ), 'secondary', 'submit', false ); ?>
			</form>
			<p><a href="<?php echo esc_url( admin_url( 'tools.php?page=' . Events_Page::SLUG ) ); ?>"><?php esc_html_e( 'See recent events and their delivery state', 'wp-bridge' ); ?></a></p>
		</div>
		<?php
	}

	/**
	 * The last test's answer, shown once.
	 */
	private static function render_test_result(): void {
		$user   = get_current_user_id();
		$result = get_user_meta( $user, self::TEST_META, true );
		if ( ! is_array( $result ) ) {
			return;
		}
		delete_user_meta( $user, self::TEST_META );
		$class = 'done' === ( $result['kind'] ?? '' ) ? 'notice-success' : 'notice-error';
		?>
		<div class="notice <?php echo esc_attr( $class ); ?> inline">
			<p>
				<strong><?php echo esc_html( (string) ( $result['headline'] ?? '' ) ); ?></strong>
			</p>
			<pre style="white-space:pre-wrap;word-break:break-all;"><?php echo esc_html( (string) ( $result['body'] ?? '' ) ); ?></pre>
		</div>
		<?php
	}

	/**
	 * The "Send test event" button: one signed request, straight from this
	 * admin request (the admin is waiting for the answer), not through the outbox.
	 */
	public static function send_test(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'wp-bridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::TEST_ACTION );
		$url    = Settings::gateway_url();
		$secret = Settings::secret();
		if ( '' === $url || '' === $secret ) {
			$result = array(
				'kind'     => 'fail',
				'headline' => __( 'Set the gateway URL and the signing secret first.', 'wp-bridge' ),
				'body'     => '',
			);
		} else {
			$event_id = wp_generate_uuid4();
			$user     = wp_get_current_user();
			$data     = Lead_Payload::build(
				'wp-bridge-test',
				__( 'wp-bridge test event', 'wp-bridge' ),
				array(
					/* translators: %s: the user's display name */
					'message' => sprintf( __( 'Test event sent from the WordPress admin by %s.', 'wp-bridge' ), $user->display_name ),
				),
				null,
				admin_url( 'options-general.php?page=' . self::SLUG ),
				home_url( '/' ),
				time()
			);
			$outcome = Client::attempt( $url, $secret, $event_id, Envelope::encode( 'lead.created', $event_id, home_url(), $data ) );
			$result  = array(
				'kind'     => $outcome->kind,
				'headline' => null === $outcome->status
					/* translators: %s: error code */
					? sprintf( __( 'No answer from the gateway (%s).', 'wp-bridge' ), $outcome->code )
					/* translators: 1: HTTP status, 2: error or status code */
					: sprintf( __( 'The gateway answered %1$d %2$s.', 'wp-bridge' ), $outcome->status, $outcome->code ),
				'body'     => $outcome->summary,
			);
		}
		update_user_meta( get_current_user_id(), self::TEST_META, $result );
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::SLUG ) );
		exit;
	}
}
