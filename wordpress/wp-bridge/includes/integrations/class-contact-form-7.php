<?php
/**
 * lead.created from Contact Form 7.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Events;
use WP_Bridge\Lead_Payload;
use WP_Bridge\Request;

defined( 'ABSPATH' ) || exit;

/**
 * wpcf7_mail_sent: the submission passed validation and spam checks and
 * its mail went out, so it is a real lead.
 */
final class Contact_Form_7 {

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'wpcf7_mail_sent', array( self::class, 'on_mail_sent' ), 10, 1 );
	}

	/**
	 * A sent form.
	 *
	 * @param \WPCF7_ContactForm $form The form.
	 */
	public static function on_mail_sent( $form ): void {
		if ( ! is_object( $form ) || ! method_exists( $form, 'id' ) ) {
			return;
		}
		$submission = class_exists( '\WPCF7_Submission' ) ? \WPCF7_Submission::get_instance() : null;
		$posted     = $submission ? (array) $submission->get_posted_data() : array();
		$url        = $submission ? (string) $submission->get_meta( 'url' ) : '';
		$data       = Lead_Payload::from_contact_form_7(
			(int) $form->id(),
			(string) $form->title(),
			$posted,
			'' !== $url ? $url : Request::source_url(),
			home_url( '/' ),
			time()
		);
		Events::queue( 'lead.created', $data, null, $form );
	}
}
