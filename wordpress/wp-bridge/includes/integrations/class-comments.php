<?php
/**
 * comment.created from WordPress comments.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Comment_Payload;
use WP_Bridge\Events;
use WP_Bridge\Settings;

defined( 'ABSPATH' ) || exit;

/**
 * Sends a comment when it is posted, or later when a moderator approves it,
 * according to the comment policy setting; one event per comment either way.
 */
final class Comments {

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'comment_post', array( self::class, 'on_comment_post' ), 10, 2 );
		add_action( 'transition_comment_status', array( self::class, 'on_transition' ), 10, 3 );
	}

	/**
	 * A new comment.
	 *
	 * @param int        $comment_id Comment id.
	 * @param int|string $approved   1, 0, 'spam' or 'trash'.
	 */
	public static function on_comment_post( $comment_id, $approved ): void {
		if ( self::allowed( (string) $approved, (string) Settings::all()['comment_policy'] ) ) {
			self::queue( get_comment( $comment_id ) );
		}
	}

	/**
	 * A moderator approved a comment (from pending, spam or trash).
	 *
	 * @param string      $new_status New status.
	 * @param string      $old_status Old status.
	 * @param \WP_Comment $comment    Comment.
	 */
	public static function on_transition( $new_status, $old_status, $comment ): void {
		if ( 'approved' === $new_status && 'approved' !== $old_status ) {
			// Under the other policies it may have gone out already; the
			// dedupe key makes this a no-op then.
			self::queue( $comment );
		}
	}

	/**
	 * Whether a comment in this state is sent when posted.
	 *
	 * @param string $approved '1', '0', 'spam' or 'trash'.
	 * @param string $policy   The comment policy setting.
	 */
	public static function allowed( string $approved, string $policy ): bool {
		switch ( $policy ) {
			case Settings::COMMENTS_ALL:
				return in_array( $approved, array( '1', '0', 'spam' ), true );
			case Settings::COMMENTS_PENDING:
				return in_array( $approved, array( '1', '0' ), true );
			default:
				return '1' === $approved;
		}
	}

	/**
	 * Queues one comment.
	 *
	 * @param mixed $comment WP_Comment or anything else.
	 */
	private static function queue( $comment ): void {
		if ( ! $comment instanceof \WP_Comment ) {
			return;
		}
		/**
		 * Filters which comment types are sent (pingbacks and trackbacks are not, by default).
		 *
		 * @param string[] $types Comment types.
		 */
		$types = (array) apply_filters( 'wp_bridge_comment_types', array( 'comment', 'review' ) );
		$type  = '' === $comment->comment_type ? 'comment' : $comment->comment_type;
		if ( ! in_array( $type, $types, true ) ) {
			return;
		}
		Events::queue( 'comment.created', Comment_Payload::from_comment( $comment, time() ), 'comment:' . $comment->comment_ID, $comment );
	}
}
