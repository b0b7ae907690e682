<?php
/**
 * lead.created from Gravity Forms.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Events;
use WP_Bridge\Lead_Payload;

defined( 'ABSPATH' ) || exit;

/**
 * gform_after_submission: the entry is saved (and is not spam).
 */
final class Gravity_Forms {

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'gform_after_submission', array( self::class, 'on_submission' ), 10, 2 );
	}

	/**
	 * A saved entry.
	 *
	 * @param array $entry Entry.
	 * @param array $form  Form.
	 */
	public static function on_submission( $entry, $form ): void {
		if ( ! is_array( $entry ) || ! is_array( $form ) ) {
			return;
		}
		if ( isset( $entry['status'] ) && 'spam' === $entry['status'] ) {
			return;
		}
		$data = Lead_Payload::from_gravity_forms( $entry, $form, home_url( '/' ), time() );
		$key  = ! empty( $entry['id'] ) ? 'gf:' . (int) $entry['id'] : null;
		Events::queue( 'lead.created', $data, $key, $form );
	}
}
