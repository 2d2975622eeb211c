<?php
/**
 * Submission: the comment form's extra fields, holding a new comment, and sending it to
 * `POST /v1/comments`.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Sends readers' comments to commentmod and keeps them unapproved until its decision.
 */
final class Commentmod_Submission {

	/** Name of the hidden trap field added to the comment form. */
	const HONEYPOT_FIELD = 'commentmod_hp';

	/** Name of the signed form-rendering time added to the comment form. */
	const TIMESTAMP_FIELD = 'commentmod_ts';

	/**
	 * WordPress's own approval of the comments being inserted in this request, keyed by a
	 * fingerprint of the comment data (pre_comment_approved runs before the id exists).
	 *
	 * @var array<string, int>
	 */
	private static $wp_approval = array();

	/** Hook into WordPress. */
	public static function register() {
		add_action( 'comment_form', array( __CLASS__, 'render_fields' ) );
		add_filter( 'pre_comment_approved', array( __CLASS__, 'hold' ), 99, 2 );
		add_action( 'comment_post', array( __CLASS__, 'on_comment_post' ), 10, 3 );
		add_filter( 'notify_moderator', array( __CLASS__, 'defer_moderator_notice' ), 10, 2 );
	}

	/**
	 * `notify_moderator`: no "please moderate" email for a comment that is only waiting for
	 * commentmod; the decisions route sends it when commentmod holds the comment.
	 *
	 * @param bool $maybe_notify WordPress's choice.
	 * @param int  $comment_id   Comment id.
	 * @return bool
	 */
	public static function defer_moderator_notice( $maybe_notify, $comment_id ) {
		// WordPress notifies on comment_post, between hold() and on_comment_post(): a comment
		// held for commentmod in this request is still in $wp_approval.
		return empty( self::$wp_approval ) ? $maybe_notify : false;
	}

	/**
	 * Print the honeypot and the signed timestamp inside the theme's comment form.
	 */
	public static function render_fields() {
		if ( ! Commentmod_Settings::is_configured() ) {
			return;
		}
		$now = time();
		printf(
			'<p class="commentmod-hp" aria-hidden="true" style="position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden">'
			. '<label for="%1$s">%2$s</label><input type="text" id="%1$s" name="%1$s" value="" tabindex="-1" autocomplete="off"></p>'
			. '<input type="hidden" name="%3$s" value="%4$s">',
			esc_attr( self::HONEYPOT_FIELD ),
			esc_html__( 'Leave this field empty', 'commentmod' ),
			esc_attr( self::TIMESTAMP_FIELD ),
			esc_attr( $now . '.' . self::timestamp_mac( $now ) )
		);
	}

	/**
	 * The form timestamp's MAC, so a bot cannot claim it read the page for an hour.
	 *
	 * @param int $timestamp Unix time.
	 * @return string
	 */
	private static function timestamp_mac( $timestamp ) {
		return substr( hash_hmac( 'sha256', 'commentmod-form|' . $timestamp, wp_salt( 'nonce' ) ), 0, 20 );
	}

	/**
	 * `pre_comment_approved`: a reader's comment starts unapproved; WordPress's own decision
	 * is remembered for the "let WordPress decide" mode. Spam or trash decided by WordPress
	 * (or another plugin) stands and the comment is not sent.
	 *
	 * @param int|string|WP_Error $approved    WordPress's decision.
	 * @param array               $commentdata Comment data.
	 * @return int|string|WP_Error
	 */
	public static function hold( $approved, $commentdata ) {
		if ( ! self::is_for_commentmod( $approved, $commentdata ) ) {
			return $approved;
		}
		self::$wp_approval[ self::fingerprint( $commentdata ) ] = (int) $approved;
		return 0;
	}

	/**
	 * Whether a comment about to be inserted goes to commentmod.
	 *
	 * @param int|string|WP_Error $approved    WordPress's decision.
	 * @param array               $commentdata Comment data.
	 * @return bool
	 */
	private static function is_for_commentmod( $approved, $commentdata ) {
		if ( ! Commentmod_Settings::is_configured() || is_wp_error( $approved ) ) {
			return false;
		}
		if ( 0 !== $approved && 1 !== $approved && '0' !== $approved && '1' !== $approved ) {
			return false;
		}
		$type = isset( $commentdata['comment_type'] ) ? (string) $commentdata['comment_type'] : '';
		if ( '' !== $type && 'comment' !== $type ) {
			return false;
		}
		// The site's own editors are not moderated by commentmod.
		$user_id = isset( $commentdata['user_id'] ) ? (int) $commentdata['user_id'] : 0;
		return ! ( $user_id && user_can( $user_id, 'moderate_comments' ) );
	}

	/**
	 * Identify comment data between pre_comment_approved and comment_post.
	 *
	 * @param array $commentdata Comment data.
	 * @return string
	 */
	private static function fingerprint( $commentdata ) {
		$parts = array();
		foreach ( array( 'comment_post_ID', 'comment_author', 'comment_author_email', 'comment_content', 'comment_parent' ) as $key ) {
			$parts[] = isset( $commentdata[ $key ] ) ? (string) $commentdata[ $key ] : '';
		}
		return md5( implode( "\0", $parts ) );
	}

	/**
	 * `comment_post`: build the submission, remember it, and send it now. Never lets an error
	 * reach the reader: whatever fails is queued for WP-Cron.
	 *
	 * @param int        $comment_id  Comment id.
	 * @param int|string $approved    Status given at insertion.
	 * @param array      $commentdata Comment data.
	 */
	public static function on_comment_post( $comment_id, $approved, $commentdata ) {
		$fingerprint = self::fingerprint( $commentdata );
		if ( ! isset( self::$wp_approval[ $fingerprint ] ) ) {
			return;
		}
		$wp_approval = self::$wp_approval[ $fingerprint ];
		unset( self::$wp_approval[ $fingerprint ] );
		try {
			$comment = get_comment( $comment_id );
			if ( ! $comment instanceof WP_Comment ) {
				return;
			}
			Commentmod_Store::put( $comment_id, Commentmod_Store::PAYLOAD, self::payload( $comment ) );
			update_comment_meta( $comment_id, Commentmod_Store::STATUS, 'queued' );
			update_comment_meta( $comment_id, Commentmod_Store::WP_APPROVAL, $wp_approval );
			self::attempt( (int) $comment_id );
		} catch ( Throwable $error ) {
			// The comment is stored and held; the retry queue picks it up.
			update_comment_meta( $comment_id, Commentmod_Store::RETRY_AT, time() + Commentmod_Settings::retry_base_seconds() );
			Commentmod_Queue::schedule( time() + Commentmod_Settings::retry_base_seconds() );
		}
	}

	/**
	 * The body of `POST /v1/comments`: only what commentmod needs.
	 *
	 * @param WP_Comment $comment The stored comment.
	 * @return array<string, string>
	 */
	private static function payload( WP_Comment $comment ) {
		$name = trim( (string) $comment->comment_author );
		$body = array(
			'thread_id'    => (string) $comment->comment_post_ID,
			'author_name'  => '' !== $name ? $name : __( 'Anonymous', 'commentmod' ),
			'author_email' => (string) $comment->comment_author_email,
			'text'         => (string) $comment->comment_content,
		);
		$permalink = get_permalink( (int) $comment->comment_post_ID );
		if ( is_string( $permalink ) && preg_match( '#^https?://#i', $permalink ) ) {
			$body['thread_url'] = $permalink;
		}
		if ( '' !== (string) $comment->comment_author_url ) {
			$body['author_url'] = (string) $comment->comment_author_url;
		}
		$parent = (int) $comment->comment_parent;
		if ( $parent && 'published' === get_comment_meta( $parent, Commentmod_Store::STATUS, true ) ) {
			$body['parent_id'] = (string) get_comment_meta( $parent, Commentmod_Store::ID, true );
		}
		if ( '' !== (string) $comment->comment_author_IP ) {
			$body['client_ip'] = (string) $comment->comment_author_IP;
		}
		if ( '' !== (string) $comment->comment_agent ) {
			$body['user_agent'] = substr( (string) $comment->comment_agent, 0, 1000 );
		}
		// phpcs:disable WordPress.Security.NonceVerification.Missing -- a reader's comment form has no nonce; these fields are spam signals, verified by their own MAC.
		if ( isset( $_SERVER['HTTP_REFERER'] ) ) {
			$body['referrer'] = substr( esc_url_raw( wp_unslash( $_SERVER['HTTP_REFERER'] ) ), 0, 2000 );
		}
		$body['honeypot'] = isset( $_POST[ self::HONEYPOT_FIELD ] )
			? substr( sanitize_text_field( wp_unslash( $_POST[ self::HONEYPOT_FIELD ] ) ), 0, 1000 )
			: '';
		$stamp = isset( $_POST[ self::TIMESTAMP_FIELD ] ) ? sanitize_text_field( wp_unslash( $_POST[ self::TIMESTAMP_FIELD ] ) ) : '';
		// phpcs:enable
		$started = self::verified_timestamp( $stamp );
		if ( null !== $started ) {
			$body['form_started_at'] = gmdate( 'Y-m-d\TH:i:s\Z', $started );
		}
		return array_filter( $body, 'strlen' ) + array( 'honeypot' => '' );
	}

	/**
	 * The form's rendering time when its MAC is valid and it is not in the future.
	 *
	 * @param string $stamp "<unix>.<mac>".
	 * @return int|null
	 */
	private static function verified_timestamp( $stamp ) {
		if ( ! preg_match( '/^(\d{1,12})\.([0-9a-f]{20})$/', $stamp, $m ) ) {
			return null;
		}
		$time = (int) $m[1];
		if ( $time > time() + 60 || ! hash_equals( self::timestamp_mac( $time ), $m[2] ) ) {
			return null;
		}
		return $time;
	}

	/**
	 * The Idempotency-Key of a comment: this WordPress installation and the comment id, so a
	 * retry is recognised and a reinstalled site never collides with an old one.
	 *
	 * @param int $comment_id Comment id.
	 * @return string
	 */
	public static function idempotency_key( $comment_id ) {
		$install = get_option( 'commentmod_install_id' );
		if ( ! is_string( $install ) || '' === $install ) {
			$install = wp_generate_uuid4();
			add_option( 'commentmod_install_id', $install, '', 'no' );
			$install = (string) get_option( 'commentmod_install_id' );
		}
		return 'wp-' . $install . '-' . get_current_blog_id() . '-' . (int) $comment_id;
	}

	/**
	 * Send a queued comment once. Outcomes: `sent` (commentmod has it), `queued` (retry
	 * later), `refused` (commentmod will not take it: it stays for WordPress's moderators).
	 *
	 * @param int $comment_id Comment id.
	 * @return string
	 */
	public static function attempt( $comment_id ) {
		$payload = get_comment_meta( $comment_id, Commentmod_Store::PAYLOAD, true );
		if ( ! is_array( $payload ) ) {
			return 'sent';
		}
		$key      = self::idempotency_key( $comment_id ) . ( isset( $payload['parent_id'] ) ? '' : '-root' );
		$response = Commentmod_Client::request(
			'POST',
			'/v1/comments',
			Commentmod_Client::encode( $payload ),
			Commentmod_Settings::get( 'api_key' ),
			array( 'Idempotency-Key' => $key )
		);
		if ( $response->is_success() && isset( $response->body['id'] ) ) {
			self::accepted( $comment_id, (string) $response->body['id'] );
			return 'sent';
		}
		if ( 422 === $response->code && isset( $payload['parent_id'], $response->body['error']['fields']['parent_id'] ) ) {
			// The parent is no longer published at commentmod: send it as a top-level comment.
			unset( $payload['parent_id'] );
			Commentmod_Store::put( $comment_id, Commentmod_Store::PAYLOAD, $payload );
			return self::attempt( $comment_id );
		}
		if ( $response->is_transient() || in_array( $response->code, array( 401, 403, 408 ), true ) ) {
			self::postpone( $comment_id, $response );
			return 'queued';
		}
		// 409 duplicate_comment, 422 invalid_fields, ...: commentmod will never take it.
		update_comment_meta( $comment_id, Commentmod_Store::STATUS, 'refused' );
		update_comment_meta( $comment_id, Commentmod_Store::ERROR, $response->error );
		delete_comment_meta( $comment_id, Commentmod_Store::PAYLOAD );
		delete_comment_meta( $comment_id, Commentmod_Store::RETRY_AT );
		return 'refused';
	}

	/**
	 * commentmod stored the comment (202, or the first answer again for a retried key).
	 *
	 * @param int    $comment_id    Comment id.
	 * @param string $commentmod_id commentmod's id.
	 */
	private static function accepted( $comment_id, $commentmod_id ) {
		Commentmod_Store::put( $comment_id, Commentmod_Store::ID, $commentmod_id );
		if ( 'queued' === get_comment_meta( $comment_id, Commentmod_Store::STATUS, true ) ) {
			update_comment_meta( $comment_id, Commentmod_Store::STATUS, 'pending' );
		}
		foreach ( array( Commentmod_Store::PAYLOAD, Commentmod_Store::RETRY_AT, Commentmod_Store::ATTEMPTS, Commentmod_Store::ERROR ) as $key ) {
			delete_comment_meta( $comment_id, $key );
		}
		if ( '' !== (string) get_comment_meta( $comment_id, Commentmod_Store::DECISION, true ) ) {
			// A moderator decided while commentmod did not have the comment yet.
			update_comment_meta( $comment_id, Commentmod_Store::DECISION_RETRY_AT, time() );
			Commentmod_Queue::schedule( time() );
		}
	}

	/**
	 * Queue a comment for a later attempt with exponential backoff; in "let WordPress decide"
	 * mode WordPress's own decision applies meanwhile.
	 *
	 * @param int                 $comment_id Comment id.
	 * @param Commentmod_Response $response   The failed answer.
	 */
	private static function postpone( $comment_id, Commentmod_Response $response ) {
		$attempts = (int) get_comment_meta( $comment_id, Commentmod_Store::ATTEMPTS, true ) + 1;
		$at       = time() + max( Commentmod_Queue::backoff( $attempts ), $response->retry_after );
		update_comment_meta( $comment_id, Commentmod_Store::ATTEMPTS, $attempts );
		update_comment_meta( $comment_id, Commentmod_Store::RETRY_AT, $at );
		update_comment_meta( $comment_id, Commentmod_Store::ERROR, $response->error );
		Commentmod_Queue::schedule( $at );
		$is_first = 1 === $attempts;
		if ( $is_first && Commentmod_Settings::UNREACHABLE_WORDPRESS === Commentmod_Settings::get( 'unreachable' ) ) {
			$approve = 1 === (int) get_comment_meta( $comment_id, Commentmod_Store::WP_APPROVAL, true );
			Commentmod_Store::set_wp_status( $comment_id, $approve ? 'approve' : 'hold' );
		}
	}
}
