<?php
/**
 * The plugin's own lead form: [wp_bridge_lead_form] or wp_bridge_lead_form().
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Events;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Text;

defined( 'ABSPATH' ) || exit;

/**
 * A name / email / message form that posts to admin-post.php.
 *
 * Anonymous visitors get no nonce check, as with WordPress's own comment
 * form: a nonce protects a logged-in user's authority, which an anonymous
 * form does not use, and cached pages would serve expired nonces. The
 * form's hidden settings are signed with wp_hash() instead, so a visitor
 * cannot send leads claiming another form or page; a hidden field that
 * only bots fill in drops their submissions.
 */
final class Lead_Form {

	public const ACTION = 'wp_bridge_lead';

	/** Query argument carrying the result back to the page. */
	private const RESULT = 'wp_bridge_lead';

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_shortcode( 'wp_bridge_lead_form', array( self::class, 'shortcode' ) );
		add_action( 'admin_post_nopriv_' . self::ACTION, array( self::class, 'handle' ) );
		add_action( 'admin_post_' . self::ACTION, array( self::class, 'handle' ) );
	}

	/**
	 * The shortcode.
	 *
	 * @param array|string $atts form_id, title, button.
	 */
	public static function shortcode( $atts ): string {
		$atts = shortcode_atts(
			array(
				'form_id' => 'wp-bridge-lead',
				'title'   => __( 'Contact us', 'wp-bridge' ),
				'button'  => __( 'Send', 'wp-bridge' ),
			),
			is_array( $atts ) ? $atts : array(),
			'wp_bridge_lead_form'
		);
		return self::render( (string) $atts['form_id'], (string) $atts['title'], (string) $atts['button'] );
	}

	/**
	 * The form's HTML.
	 *
	 * @param string $form_id Form id sent as form_id.
	 * @param string $title   Title sent as form_title.
	 * @param string $button  Button label.
	 */
	public static function render( string $form_id, string $title, string $button ): string {
		$form_id = sanitize_key( $form_id );
		$form_id = '' === $form_id ? 'wp-bridge-lead' : $form_id;
		$title   = sanitize_text_field( $title );
		$source  = get_permalink();
		$source  = esc_url_raw( is_string( $source ) && '' !== $source ? $source : home_url( '/' ) );
		$anchor  = 'wp-bridge-lead-' . $form_id;
		$result  = isset( $_GET[ self::RESULT ], $_GET['form'] ) && sanitize_key( wp_unslash( $_GET['form'] ) ) === $form_id // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- only picks which message to show.
			? sanitize_key( wp_unslash( $_GET[ self::RESULT ] ) ) // phpcs:ignore WordPress.Security.NonceVerification.Recommended
			: '';

		ob_start();
		?>
		<form id="<?php echo esc_attr( $anchor ); ?>" class="wp-bridge-lead-form" method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
			<?php if ( 'sent' === $result ) : ?>
				<p class="wp-bridge-lead-sent" role="status"><?php esc_html_e( 'Thank you, we will be in touch.', 'wp-bridge' ); ?></p>
			<?php elseif ( 'invalid' === $result ) : ?>
				<p class="wp-bridge-lead-error" role="alert"><?php esc_html_e( 'Please fill in your name, a valid email address and a message.', 'wp-bridge' ); ?></p>
			<?php endif; ?>
			<p>
				<label for="<?php echo esc_attr( $anchor ); ?>-name"><?php esc_html_e( 'Name', 'wp-bridge' ); ?></label>
				<input id="<?php echo esc_attr( $anchor ); ?>-name" type="text" name="lead_name" required maxlength="200" autocomplete="name">
			</p>
			<p>
				<label for="<?php echo esc_attr( $anchor ); ?>-email"><?php esc_html_e( 'Email', 'wp-bridge' ); ?></label>
				<input id="<?php echo esc_attr( $anchor ); ?>-email" type="email" name="lead_email" required maxlength="254" autocomplete="email">
			</p>
			<p>
				<label for="<?php echo esc_attr( $anchor ); ?>-message"><?php esc_html_e( 'Message', 'wp-bridge' ); ?></label>
				<textarea id="<?php echo esc_attr( $anchor ); ?>-message" name="lead_message" required rows="5" maxlength="5000"></textarea>
			</p>
			<p class="wp-bridge-lead-hp" aria-hidden="true" style="position:absolute;left:-10000px;">
				<label><?php esc_html_e( 'Leave this empty', 'wp-bridge' ); ?> <input type="text" name="lead_website" tabindex="-1" autocomplete="off"></label>
			</p>
			<input type="hidden" name="action" value="<?php echo esc_attr( self::ACTION ); ?>">
			<input type="hidden" name="form_id" value="<?php echo esc_attr( $form_id ); ?>">
			<input type="hidden" name="form_title" value="<?php echo esc_attr( $title ); ?>">
			<input type="hidden" name="source_url" value="<?php echo esc_url( $source ); ?>">
			<input type="hidden" name="form_token" value="<?php echo esc_attr( self::token( $form_id, $title, $source ) ); ?>">
			<?php
			if ( is_user_logged_in() ) {
				wp_nonce_field( self::ACTION, '_wp_bridge_nonce' );
			}
			?>
			<p><button type="submit"><?php echo esc_html( $button ); ?></button></p>
		</form>
		<?php
		return (string) ob_get_clean();
	}

	/**
	 * Signs the form's hidden settings with this site's salts.
	 *
	 * @param string $form_id Form id.
	 * @param string $title   Title.
	 * @param string $source  Page URL.
	 */
	private static function token( string $form_id, string $title, string $source ): string {
		return wp_hash( 'wp-bridge-lead|' . $form_id . '|' . $title . '|' . $source, 'nonce' );
	}

	/**
	 * A submission: validate, queue, go back to the page.
	 */
	public static function handle(): void {
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- see the class comment: anonymous forms are checked by form_token; logged-in users by their nonce below.
		if ( is_user_logged_in() && ! wp_verify_nonce( isset( $_POST['_wp_bridge_nonce'] ) ? sanitize_key( wp_unslash( $_POST['_wp_bridge_nonce'] ) ) : '', self::ACTION ) ) {
			wp_die( esc_html__( 'This form has expired. Go back, reload the page and send it again.', 'wp-bridge' ), '', array( 'response' => 403 ) );
		}
		$post    = wp_unslash( $_POST );
		$form_id = sanitize_key( $post['form_id'] ?? '' );
		$title   = sanitize_text_field( $post['form_title'] ?? '' );
		$source  = esc_url_raw( $post['source_url'] ?? '' );
		$token   = sanitize_text_field( $post['form_token'] ?? '' );
		// phpcs:enable WordPress.Security.NonceVerification.Missing
		if ( '' === $form_id || ! hash_equals( self::token( $form_id, $title, $source ), $token ) ) {
			wp_die( esc_html__( 'This form could not be checked. Reload the page and send it again.', 'wp-bridge' ), '', array( 'response' => 400 ) );
		}
		$back = wp_validate_redirect( $source, home_url( '/' ) );

		$name    = sanitize_text_field( $post['lead_name'] ?? '' );
		$email   = sanitize_email( $post['lead_email'] ?? '' );
		$message = sanitize_textarea_field( $post['lead_message'] ?? '' );
		if ( '' !== trim( (string) ( $post['lead_website'] ?? '' ) ) ) {
			// A bot filled in the hidden field: thank it and drop the lead.
			self::back( $back, $form_id, 'sent' );
		}
		if ( '' === $name || '' === $message || ! is_email( $email ) || ! Text::is_email( $email ) ) {
			self::back( $back, $form_id, 'invalid' );
		}
		$data = Lead_Payload::build(
			$form_id,
			$title,
			array(
				'name'    => $name,
				'email'   => $email,
				'message' => $message,
			),
			$email,
			$back,
			home_url( '/' ),
			time()
		);
		Events::queue( 'lead.created', $data, null, 'wp_bridge_lead_form' );
		self::back( $back, $form_id, 'sent' );
	}

	/**
	 * Redirects to the form's page with the result and ends the request.
	 *
	 * @param string $url     Page URL.
	 * @param string $form_id Form id.
	 * @param string $result  'sent' or 'invalid'.
	 */
	private static function back( string $url, string $form_id, string $result ): void {
		$url = add_query_arg(
			array(
				self::RESULT => $result,
				'form'       => $form_id,
			),
			$url
		);
		wp_safe_redirect( $url . '#wp-bridge-lead-' . $form_id, 303 );
		exit;
	}
}
