<?php
/**
 * comment.created data from a WordPress comment.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Only what the gateway's schema asks for: no IP, user agent or other
 * personal data beyond the name and address the commenter typed.
 */
final class Comment_Payload {

	/**
	 * The data of a comment.created event.
	 *
	 * @param object $comment A WP_Comment (or any object with its fields).
	 * @param int    $now     Unix time, for comments without a date.
	 * @return array<string,mixed>
	 */
	public static function from_comment( object $comment, int $now ): array {
		$author = array( 'name' => Text::clean( $comment->comment_author ?? '' ) );
		$email  = Text::email_or_null( $comment->comment_author_email ?? '' );
		if ( null !== $email ) {
			$author['email'] = $email;
		}
		return array(
			'id'         => max( 0, (int) ( $comment->comment_ID ?? 0 ) ),
			'post_id'    => max( 0, (int) ( $comment->comment_post_ID ?? 0 ) ),
			'author'     => $author,
			'content'    => Text::clean( $comment->comment_content ?? '', Text::LONG ),
			'created_at' => Text::rfc3339_from_gmt( $comment->comment_date_gmt ?? null, $now ),
		);
	}
}
