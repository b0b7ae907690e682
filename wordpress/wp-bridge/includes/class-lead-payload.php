<?php
/**
 * lead.created data from form submissions.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * One shape for every form plugin: form id and title, a flat map of field
 * label to text, the visitor's address and the page the form was on.
 */
final class Lead_Payload {

	/** The schema allows at most this many fields. */
	private const MAX_FIELDS = 200;

	/** Field names are 1 to 128 characters. */
	private const MAX_NAME = 128;

	/**
	 * The data of a lead.created event.
	 *
	 * @param int|string  $form_id    The form's id in its plugin.
	 * @param string      $form_title Its title.
	 * @param array       $fields     Label => value (scalars or lists of scalars).
	 * @param string|null $email      The visitor's address; guessed from $fields when null.
	 * @param string      $source_url Page the form was sent from.
	 * @param string      $fallback   URL used when $source_url is not an absolute http(s) URL.
	 * @param int         $created_at Unix time of the submission.
	 * @return array<string,mixed>
	 */
	public static function build( $form_id, string $form_title, array $fields, ?string $email, string $source_url, string $fallback, int $created_at ): array {
		$clean = array();
		foreach ( $fields as $name => $value ) {
			if ( count( $clean ) >= self::MAX_FIELDS ) {
				break;
			}
			$name = trim( Text::clean( $name, self::MAX_NAME ) );
			if ( '' === $name ) {
				continue;
			}
			$clean[ self::unique_name( $name, $clean ) ] = Text::clean( self::flatten( $value ), Text::LONG );
		}
		$email = null === $email ? self::guess_email( $clean ) : Text::email_or_null( $email );
		$data  = array(
			'form_id'    => self::form_id( $form_id ),
			'form_title' => Text::clean( $form_title ),
			// An object even when empty or when labels look like list indexes.
			'fields'     => (object) $clean,
		);
		if ( null !== $email ) {
			$data['email'] = $email;
		}
		$data['source_url'] = Text::is_http_url( $source_url ) ? $source_url : $fallback;
		$data['created_at'] = Text::rfc3339( $created_at );
		return $data;
	}

	/**
	 * Contact Form 7: the submission's posted data (CF7 has already removed
	 * its own underscore-prefixed fields; any left are dropped here too).
	 *
	 * @param int    $form_id    WPCF7_ContactForm::id().
	 * @param string $form_title WPCF7_ContactForm::title().
	 * @param array  $posted     WPCF7_Submission::get_posted_data().
	 * @param string $source_url WPCF7_Submission::get_meta( 'url' ).
	 * @param string $fallback   Site URL.
	 * @param int    $now        Unix time.
	 * @return array<string,mixed>
	 */
	public static function from_contact_form_7( int $form_id, string $form_title, array $posted, string $source_url, string $fallback, int $now ): array {
		$fields = array();
		foreach ( $posted as $name => $value ) {
			if ( 0 !== strpos( (string) $name, '_' ) ) {
				$fields[ (string) $name ] = $value;
			}
		}
		return self::build( $form_id, $form_title, $fields, null, $source_url, $fallback, $now );
	}

	/**
	 * WPForms: the `$fields` and `$form_data` of wpforms_process_complete.
	 *
	 * @param array  $fields     Field id => array( name, value, type, … ).
	 * @param array  $form_data  The form's settings.
	 * @param string $source_url Page the form was sent from.
	 * @param string $fallback   Site URL.
	 * @param int    $now        Unix time.
	 * @return array<string,mixed>
	 */
	public static function from_wpforms( array $fields, array $form_data, string $source_url, string $fallback, int $now ): array {
		$out   = array();
		$email = null;
		foreach ( $fields as $id => $field ) {
			if ( ! is_array( $field ) || ! array_key_exists( 'value', $field ) ) {
				continue;
			}
			$label         = '' !== trim( (string) ( $field['name'] ?? '' ) ) ? $field['name'] : 'field_' . ( $field['id'] ?? $id );
			$out[ $label ] = $field['value'];
			if ( null === $email && 'email' === ( $field['type'] ?? '' ) ) {
				$email = Text::email_or_null( $field['value'] );
			}
		}
		$title = (string) ( $form_data['settings']['form_title'] ?? '' );
		return self::build( $form_data['id'] ?? 0, $title, $out, $email ?? self::guess_email( $out ), $source_url, $fallback, $now );
	}

	/**
	 * Gravity Forms: the `$entry` and `$form` of gform_after_submission.
	 *
	 * @param array  $entry    Entry: field ids => values, plus source_url and date_created (UTC).
	 * @param array  $form     Form: id, title, fields (GF_Field objects).
	 * @param string $fallback Site URL.
	 * @param int    $now      Unix time.
	 * @return array<string,mixed>
	 */
	public static function from_gravity_forms( array $entry, array $form, string $fallback, int $now ): array {
		$out   = array();
		$email = null;
		foreach ( (array) ( $form['fields'] ?? array() ) as $field ) {
			$field = (object) $field;
			if ( in_array( $field->type ?? '', array( 'html', 'section', 'page', 'captcha' ), true ) ) {
				continue;
			}
			$value = self::gravity_value( $field, $entry );
			if ( '' === $value ) {
				continue;
			}
			$label         = '' !== trim( (string) ( $field->label ?? '' ) ) ? $field->label : 'field_' . ( $field->id ?? '' );
			$out[ $label ] = $value;
			if ( null === $email && 'email' === ( $field->type ?? '' ) ) {
				$email = Text::email_or_null( $value );
			}
		}
		$created = isset( $entry['date_created'] ) ? strtotime( $entry['date_created'] . ' UTC' ) : false;
		return self::build(
			$form['id'] ?? 0,
			(string) ( $form['title'] ?? '' ),
			$out,
			$email ?? self::guess_email( $out ),
			(string) ( $entry['source_url'] ?? '' ),
			$fallback,
			false === $created ? $now : $created
		);
	}

	/**
	 * A Gravity Forms field's value as text: through the field's own export
	 * formatting where it has one (names, addresses, lists), else the entry's
	 * value or its sub-inputs joined.
	 *
	 * @param object $field GF_Field.
	 * @param array  $entry Entry.
	 */
	private static function gravity_value( object $field, array $entry ): string {
		if ( method_exists( $field, 'get_value_export' ) ) {
			return trim( self::flatten( $field->get_value_export( $entry ) ) );
		}
		if ( ! empty( $field->inputs ) && is_array( $field->inputs ) ) {
			$parts = array();
			foreach ( $field->inputs as $input ) {
				$part = (string) ( $entry[ (string) ( $input['id'] ?? '' ) ] ?? '' );
				if ( '' !== $part ) {
					$parts[] = $part;
				}
			}
			return implode( ' ', $parts );
		}
		return trim( self::flatten( $entry[ (string) ( $field->id ?? '' ) ] ?? '' ) );
	}

	/**
	 * The schema's form_id: a non-negative integer or a 1–64 character string.
	 *
	 * @param mixed $form_id Raw id.
	 * @return int|string
	 */
	private static function form_id( $form_id ) {
		if ( is_int( $form_id ) && $form_id >= 0 ) {
			return $form_id;
		}
		$text = trim( Text::clean( $form_id, 64 ) );
		if ( 1 === preg_match( '/^(0|[1-9]\d{0,17})$/', $text ) ) {
			return (int) $text;
		}
		return '' === $text ? 'unknown' : $text;
	}

	/**
	 * Checkbox and multi-select answers arrive as lists.
	 *
	 * @param mixed $value Scalar or (nested) list.
	 */
	private static function flatten( $value ): string {
		if ( is_array( $value ) || is_object( $value ) ) {
			$parts = array();
			array_walk_recursive(
				$value,
				static function ( $item ) use ( &$parts ) {
					if ( is_scalar( $item ) && '' !== (string) $item ) {
						$parts[] = (string) $item;
					}
				}
			);
			return implode( ', ', $parts );
		}
		return is_scalar( $value ) ? (string) $value : '';
	}

	/**
	 * Two fields with one label keep both values.
	 *
	 * @param string $name  Wanted name.
	 * @param array  $taken Names so far.
	 */
	private static function unique_name( string $name, array $taken ): string {
		$candidate = $name;
		for ( $n = 2; array_key_exists( $candidate, $taken ); $n++ ) {
			$suffix    = ' (' . $n . ')';
			$candidate = mb_substr( $name, 0, self::MAX_NAME - mb_strlen( $suffix ) ) . $suffix;
		}
		return $candidate;
	}

	/**
	 * The first valid address in a field whose name mentions mail, else the
	 * first valid address anywhere.
	 *
	 * @param array $fields Label => text.
	 */
	private static function guess_email( array $fields ): ?string {
		$any = null;
		foreach ( $fields as $name => $value ) {
			$email = Text::email_or_null( $value );
			if ( null === $email ) {
				continue;
			}
			if ( false !== stripos( (string) $name, 'mail' ) ) {
				return $email;
			}
			$any = $any ?? $email;
		}
		return $any;
	}
}
