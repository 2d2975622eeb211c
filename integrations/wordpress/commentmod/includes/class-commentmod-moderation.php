<?php
/**
 * WordPress moderators' decisions go back to commentmod (where they become labels), and the
 * comment list shows commentmod's status and reasons.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Decisions made in WordPress's comment screens, sent as
 * `POST /v1/moderation/comments/{id}/decision` with the moderator token from the settings
 * (commentmod accepts decisions only from moderator tokens, never from a site key).
 */
final class Commentmod_Moderation {

	/** WordPress's new status → commentmod action. Unapproving has no commentmod action. */
	const ACTIONS = array(
		'approved' => 'approve',
		'spam'     => 'spam',
		'trash'    => 'reject',
	);

	/** Hook into WordPress. */
	public static function register() {
		add_action( 'transition_comment_status', array( __CLASS__, 'on_transition' ), 10, 3 );
		add_filter( 'manage_edit-comments_columns', array( __CLASS__, 'add_column' ) );
		add_action( 'manage_comments_custom_column', array( __CLASS__, 'render_column' ), 10, 2 );
	}

	/**
	 * `transition_comment_status`: a status change not made by this plugin is a moderator's
	 * decision. It is remembered and sent now; what cannot be sent is retried by WP-Cron.
	 *
	 * @param string     $new_status New status.
	 * @param string     $old_status Old status.
	 * @param WP_Comment $comment    The comment.
	 */
	public static function on_transition( $new_status, $old_status, $comment ) {
		if ( Commentmod_Store::is_applying() || ! isset( self::ACTIONS[ $new_status ] ) || $new_status === $old_status ) {
			return;
		}
		$comment_id = (int) $comment->comment_ID;
		$known      = (string) get_comment_meta( $comment_id, Commentmod_Store::STATUS, true );
		if ( '' === $known || 'refused' === $known ) {
			return; // Not a comment commentmod has or will have.
		}
		try {
			update_comment_meta( $comment_id, Commentmod_Store::DECISION, self::ACTIONS[ $new_status ] );
			update_comment_meta( $comment_id, Commentmod_Store::DECISION_ATTEMPTS, 0 );
			delete_comment_meta( $comment_id, Commentmod_Store::ERROR );
			if ( '' === (string) get_comment_meta( $comment_id, Commentmod_Store::ID, true ) ) {
				return; // Sent once the comment itself reaches commentmod.
			}
			update_comment_meta( $comment_id, Commentmod_Store::DECISION_RETRY_AT, time() );
			self::attempt( $comment_id );
		} catch ( Throwable $error ) {
			Commentmod_Queue::schedule( time() + Commentmod_Settings::retry_base_seconds() );
		}
	}

	/**
	 * Send a remembered decision once. Outcomes: `done`, `queued` (retry later), `dropped`
	 * (commentmod refuses it for good; the code is kept in the comment's meta).
	 *
	 * @param int $comment_id Comment id.
	 * @return string
	 */
	public static function attempt( $comment_id ) {
		$action        = (string) get_comment_meta( $comment_id, Commentmod_Store::DECISION, true );
		$commentmod_id = (string) get_comment_meta( $comment_id, Commentmod_Store::ID, true );
		if ( '' === $action || '' === $commentmod_id ) {
			delete_comment_meta( $comment_id, Commentmod_Store::DECISION_RETRY_AT );
			return 'done';
		}
		$token = Commentmod_Settings::get( 'moderator_token' );
		if ( '' === $token ) {
			return self::finish( $comment_id, 'no_moderator_token' );
		}
		$user     = get_current_user_id();
		$response = Commentmod_Client::request(
			'POST',
			'/v1/moderation/comments/' . rawurlencode( $commentmod_id ) . '/decision',
			Commentmod_Client::encode(
				array(
					'action' => $action,
					'reason' => 'wordpress_moderator',
					'note'   => $user ? sprintf( 'decided in WordPress by user #%d', $user ) : 'decided in WordPress',
				)
			),
			$token
		);
		if ( $response->is_success() ) {
			if ( isset( $response->body['status'] ) ) {
				update_comment_meta( $comment_id, Commentmod_Store::STATUS, (string) $response->body['status'] );
			}
			return self::finish( $comment_id, '' );
		}
		if ( 409 === $response->code && 'already_in_status' === $response->error ) {
			return self::finish( $comment_id, '' );
		}
		$retry = $response->is_transient()
			|| in_array( $response->code, array( 401, 403, 408 ), true )
			|| in_array( $response->error, array( 'comment_pending', 'stale_decision' ), true );
		if ( ! $retry ) {
			return self::finish( $comment_id, $response->error );
		}
		$attempts = (int) get_comment_meta( $comment_id, Commentmod_Store::DECISION_ATTEMPTS, true ) + 1;
		$at       = time() + max( Commentmod_Queue::backoff( $attempts ), $response->retry_after );
		update_comment_meta( $comment_id, Commentmod_Store::DECISION_ATTEMPTS, $attempts );
		update_comment_meta( $comment_id, Commentmod_Store::DECISION_RETRY_AT, $at );
		update_comment_meta( $comment_id, Commentmod_Store::ERROR, $response->error );
		Commentmod_Queue::schedule( $at );
		return 'queued';
	}

	/**
	 * Forget a decision: accepted (`$error` empty) or refused for good.
	 *
	 * @param int    $comment_id Comment id.
	 * @param string $error      Error code, '' when accepted.
	 * @return string
	 */
	private static function finish( $comment_id, $error ) {
		foreach ( array( Commentmod_Store::DECISION, Commentmod_Store::DECISION_RETRY_AT, Commentmod_Store::DECISION_ATTEMPTS ) as $key ) {
			delete_comment_meta( $comment_id, $key );
		}
		if ( '' === $error ) {
			delete_comment_meta( $comment_id, Commentmod_Store::ERROR );
			return 'done';
		}
		update_comment_meta( $comment_id, Commentmod_Store::ERROR, $error );
		return 'dropped';
	}

	/**
	 * Add the commentmod column to Comments.
	 *
	 * @param array<string, string> $columns Columns.
	 * @return array<string, string>
	 */
	public static function add_column( $columns ) {
		$columns['commentmod'] = __( 'commentmod', 'commentmod' );
		return $columns;
	}

	/**
	 * The commentmod column: status, reasons, and a pending retry or error.
	 *
	 * @param string $column     Column name.
	 * @param int    $comment_id Comment id.
	 */
	public static function render_column( $column, $comment_id ) {
		if ( 'commentmod' !== $column ) {
			return;
		}
		$status = (string) get_comment_meta( $comment_id, Commentmod_Store::STATUS, true );
		if ( '' === $status ) {
			echo '&mdash;';
			return;
		}
		$reasons = get_comment_meta( $comment_id, Commentmod_Store::REASONS, true );
		echo '<strong class="commentmod-status">' . esc_html( $status ) . '</strong>';
		if ( is_array( $reasons ) && $reasons ) {
			echo '<ul class="commentmod-reasons">';
			foreach ( $reasons as $reason ) {
				echo '<li><code>' . esc_html( (string) $reason ) . '</code></li>';
			}
			echo '</ul>';
		}
		$error = (string) get_comment_meta( $comment_id, Commentmod_Store::ERROR, true );
		$retry = (int) get_comment_meta( $comment_id, Commentmod_Store::RETRY_AT, true );
		if ( $retry ) {
			/* translators: %s: human time difference, e.g. "2 mins". */
			echo '<p>' . esc_html( sprintf( __( 'Not sent yet; next attempt in %s.', 'commentmod' ), human_time_diff( time(), max( time(), $retry ) ) ) ) . '</p>';
		}
		if ( '' !== $error ) {
			/* translators: %s: error code. */
			echo '<p>' . esc_html( sprintf( __( 'Last error: %s', 'commentmod' ), $error ) ) . '</p>';
		}
	}
}
