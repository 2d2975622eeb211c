<?php
/**
 * What the plugin keeps per comment (comment meta), and status changes made on commentmod's
 * behalf.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Comment meta keys and the WordPress status changes the plugin makes.
 */
final class Commentmod_Store {

	/** The commentmod comment id (answer of POST /v1/comments). */
	const ID = '_commentmod_id';

	/** commentmod's status: queued (not sent yet), pending, published, held, rejected, spam, refused. */
	const STATUS = '_commentmod_status';

	/** commentmod's reason codes (array of strings). */
	const REASONS = '_commentmod_reasons';

	/** occurred_at of the last applied webhook event (older events are ignored). */
	const EVENT_AT = '_commentmod_event_at';

	/** The submission body waiting to be sent (deleted once commentmod has it). */
	const PAYLOAD = '_commentmod_payload';

	/** Unix time of the next submission attempt (only while queued). */
	const RETRY_AT = '_commentmod_retry_at';

	/** Number of failed submission attempts. */
	const ATTEMPTS = '_commentmod_attempts';

	/** Last error code of a submission or decision. */
	const ERROR = '_commentmod_error';

	/** WordPress's own approval, applied while commentmod is unreachable in "let WordPress decide" mode. */
	const WP_APPROVAL = '_commentmod_wp_approval';

	/** A WordPress moderator's decision not yet accepted by commentmod: approve, reject or spam. */
	const DECISION = '_commentmod_decision';

	/** Unix time of the next decision attempt. */
	const DECISION_RETRY_AT = '_commentmod_decision_retry_at';

	/** Number of failed decision attempts. */
	const DECISION_ATTEMPTS = '_commentmod_decision_attempts';

	/**
	 * True while the plugin itself changes a comment's status, so that the change is not
	 * mistaken for a moderator's decision and sent back.
	 *
	 * @var bool
	 */
	private static $applying = false;

	/**
	 * Whether the status change in progress is the plugin's own.
	 *
	 * @return bool
	 */
	public static function is_applying() {
		return self::$applying;
	}

	/**
	 * The WordPress comment id holding this commentmod id, or 0.
	 *
	 * @param string $commentmod_id commentmod comment id.
	 * @return int
	 */
	public static function find( $commentmod_id ) {
		$ids = get_comments(
			array(
				'meta_key'   => self::ID, // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_key
				'meta_value' => $commentmod_id, // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_value
				'status'     => array( 'hold', 'approve', 'spam', 'trash' ),
				'type'       => 'all',
				'fields'     => 'ids',
				'number'     => 1,
			)
		);
		return empty( $ids ) ? 0 : (int) $ids[0];
	}

	/**
	 * Store a value exactly: WordPress unslashes meta values, so slash them first.
	 *
	 * @param int    $comment_id Comment id.
	 * @param string $key        Meta key.
	 * @param mixed  $value      Value.
	 */
	public static function put( $comment_id, $key, $value ) {
		update_comment_meta( $comment_id, $key, wp_slash( $value ) );
	}

	/**
	 * Move a comment to a WordPress status on commentmod's behalf.
	 *
	 * @param int    $comment_id Comment id.
	 * @param string $target     approve, hold, spam or trash.
	 * @return bool Whether the comment now has that status.
	 */
	public static function set_wp_status( $comment_id, $target ) {
		$current = wp_get_comment_status( $comment_id );
		$same    = array(
			'approve' => 'approved',
			'hold'    => 'unapproved',
			'spam'    => 'spam',
			'trash'   => 'trash',
		);
		if ( ! isset( $same[ $target ] ) || false === $current ) {
			return false;
		}
		if ( $same[ $target ] === $current ) {
			return true;
		}
		self::$applying = true;
		try {
			// Leaving spam or trash goes through WordPress's own restore, which clears its
			// bookkeeping (_wp_trash_meta_*), before the new status is set.
			if ( 'trash' === $current ) {
				wp_untrash_comment( $comment_id );
			} elseif ( 'spam' === $current ) {
				wp_unspam_comment( $comment_id );
			}
			switch ( $target ) {
				case 'spam':
					$done = (bool) wp_spam_comment( $comment_id );
					break;
				case 'trash':
					$done = (bool) wp_trash_comment( $comment_id );
					break;
				default:
					$done = true === wp_set_comment_status( $comment_id, $target );
			}
		} finally {
			self::$applying = false;
		}
		return $done;
	}
}
