<?php
/**
 * The settings page's fields.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Admin;

use WP_Bridge\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * One method per field.
 */
final class Fields {

	/**
	 * Gateway URL.
	 */
	public static function gateway_url(): void {
		$name = Settings::OPTION . '[gateway_url]';
		if ( defined( 'WP_BRIDGE_GATEWAY_URL' ) ) {
			printf(
				'<code>%s</code><p class="description">%s</p><input type="hidden" name="%s" value="%s">',
				esc_html( Settings::gateway_url() ),
				esc_html__( 'Set by the WP_BRIDGE_GATEWAY_URL constant in wp-config.php.', 'wp-bridge' ),
				esc_attr( $name ),
				esc_attr( (string) Settings::all()['gateway_url'] )
			);
			return;
		}
		printf(
			'<input type="url" class="regular-text code" id="wp_bridge_gateway_url" name="%s" value="%s" placeholder="https://gateway.example/webhooks/wp"><p class="description">%s</p>',
			esc_attr( $name ),
			esc_attr( (string) Settings::all()['gateway_url'] ),
			esc_html__( 'The gateway\'s webhook endpoint, ending in /webhooks/wp.', 'wp-bridge' )
		);
	}

	/**
	 * Signing secret: where it comes from; never its value.
	 */
	public static function secret(): void {
		$source = Settings::secret_source();
		$length = strlen( Settings::secret() );
		if ( 'constant' === $source || 'environment' === $source ) {
			$text = 'constant' === $source
				/* translators: %d: length in bytes */
				? __( 'Set by the WP_BRIDGE_SECRET constant in wp-config.php (%d bytes).', 'wp-bridge' )
				/* translators: %d: length in bytes */
				: __( 'Set by the WP_BRIDGE_SECRET environment variable (%d bytes).', 'wp-bridge' );
			printf( '<p>%s</p>', esc_html( sprintf( $text, $length ) ) );
			if ( $length < 16 ) {
				printf( '<p class="description" style="color:#b32d2e;">%s</p>', esc_html__( 'The gateway refuses secrets shorter than 16 bytes.', 'wp-bridge' ) );
			}
			return;
		}
		$status = 'option' === $source
			/* translators: %d: length in bytes */
			? sprintf( __( 'A secret is stored in the database (%d bytes). Leave the field empty to keep it.', 'wp-bridge' ), $length )
			: __( 'No secret is set.', 'wp-bridge' );
		printf(
			'<input type="password" class="regular-text code" id="wp_bridge_secret" name="%s" value="" autocomplete="new-password"><p class="description">%s %s</p>',
			esc_attr( Settings::SECRET_OPTION ),
			esc_html( $status ),
			esc_html__( 'Better: define WP_BRIDGE_SECRET in wp-config.php, which keeps it out of the database and its backups.', 'wp-bridge' )
		);
		if ( 'option' === $source ) {
			printf(
				'<label><input type="checkbox" name="wp_bridge_forget_secret" value="1"> %s</label>',
				esc_html__( 'Forget the stored secret', 'wp-bridge' )
			);
		}
	}

	/**
	 * Event types.
	 */
	public static function events(): void {
		$labels = array(
			'comment.created' => __( 'Comments (comment.created)', 'wp-bridge' ),
			'order.created'   => __( 'WooCommerce orders (order.created)', 'wp-bridge' ),
			'lead.created'    => __( 'Form leads: Contact Form 7, WPForms, Gravity Forms, the [wp_bridge_lead_form] shortcode and the wp_bridge_send action (lead.created)', 'wp-bridge' ),
		);
		$events = Settings::all()['events'];
		// Present even with every box unticked, so "none" can be saved.
		printf( '<input type="hidden" name="%s" value="1">', esc_attr( Settings::OPTION . '[events][_present]' ) );
		echo '<fieldset>';
		foreach ( $labels as $type => $label ) {
			printf(
				'<label><input type="checkbox" name="%s" value="1" %s> %s</label><br>',
				esc_attr( Settings::OPTION . '[events][' . $type . ']' ),
				checked( ! empty( $events[ $type ] ), true, false ),
				esc_html( $label )
			);
		}
		echo '</fieldset>';
	}

	/**
	 * What happens with pending and spam comments.
	 */
	public static function comment_policy(): void {
		$current = Settings::all()['comment_policy'];
		$choices = array(
			Settings::COMMENTS_APPROVED => __( 'Send approved comments only. A comment awaiting moderation is sent when it is approved; spam is never sent.', 'wp-bridge' ),
			Settings::COMMENTS_PENDING  => __( 'Also send comments awaiting moderation at once (e.g. to moderate from Slack); spam is never sent.', 'wp-bridge' ),
			Settings::COMMENTS_ALL      => __( 'Send every comment, spam included.', 'wp-bridge' ),
		);
		echo '<fieldset>';
		foreach ( $choices as $value => $label ) {
			printf(
				'<label><input type="radio" name="%s" value="%s" %s> %s</label><br>',
				esc_attr( Settings::OPTION . '[comment_policy]' ),
				esc_attr( $value ),
				checked( $current, $value, false ),
				esc_html( $label )
			);
		}
		echo '<p class="description">' . esc_html__( 'Each comment is sent at most once.', 'wp-bridge' ) . '</p></fieldset>';
	}

	/**
	 * Attempts before an event is marked failed.
	 */
	public static function max_attempts(): void {
		printf(
			'<input type="number" min="1" max="100" class="small-text" id="wp_bridge_max_attempts" name="%s" value="%d"><p class="description">%s</p>',
			esc_attr( Settings::OPTION . '[max_attempts]' ),
			(int) Settings::all()['max_attempts'],
			esc_html__( 'Retries wait 30 s, then twice as long each time, up to an hour, or as long as the gateway asks. 15 attempts cover about 8 hours.', 'wp-bridge' )
		);
	}

	/**
	 * Retention.
	 */
	public static function retention_days(): void {
		printf(
			'<input type="number" min="1" max="3650" class="small-text" id="wp_bridge_retention_days" name="%s" value="%d"> %s<p class="description">%s</p>',
			esc_attr( Settings::OPTION . '[retention_days]' ),
			(int) Settings::all()['retention_days'],
			esc_html__( 'days', 'wp-bridge' ),
			esc_html__( 'Sent and failed events are deleted after this; events still waiting to be sent are kept.', 'wp-bridge' )
		);
	}
}
