<?php
/**
 * lead.created from WPForms.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Events;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Request;

defined( 'ABSPATH' ) || exit;

/**
 * wpforms_process_complete: after validation, spam checks and the entry
 * is saved.
 */
final class WPForms {

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'wpforms_process_complete', array( self::class, 'on_complete' ), 10, 4 );
	}

	/**
	 * A completed submission.
	 *
	 * @param array $fields    Processed fields.
	 * @param array $entry     Raw entry.
	 * @param array $form_data Form settings.
	 * @param int   $entry_id  Saved entry id (0 when entries are not stored).
	 */
	public static function on_complete( $fields, $entry, $form_data, $entry_id = 0 ): void {
		if ( ! is_array( $fields ) || ! is_array( $form_data ) ) {
			return;
		}
		$data = Lead_Payload::from_wpforms( $fields, $form_data, Request::source_url(), home_url( '/' ), time() );
		$key  = (int) $entry_id > 0 ? 'wpforms:' . (int) $entry_id : null;
		Events::queue( 'lead.created', $data, $key, $form_data );
	}
}
