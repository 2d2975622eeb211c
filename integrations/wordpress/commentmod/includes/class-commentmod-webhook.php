<?php
/**
 * The decisions route: commentmod's signed webhooks set the WordPress comment's status.
 *
 * POST /wp-json/commentmod/v1/decisions (or ?rest_route=/commentmod/v1/decisions).
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Verifies `X-Commentmod-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`
 * and applies the event. Delivery is at least once: events are de-duplicated on their id.
 */
final class Commentmod_Webhook {

	const REST_NAMESPACE = 'commentmod/v1';

	const ROUTE = '/decisions';

	/** Oldest (and furthest in the future) signature time accepted, in seconds. */
	const TOLERANCE = 300;

	/** How long a processed event id is remembered (longer than TOLERANCE: a replay is always caught). */
	const SEEN_TTL = DAY_IN_SECONDS;

	/** commentmod status → WordPress status. */
	const WP_STATUS = array(
		'published' => 'approve',
		'held'      => 'hold',
		'spam'      => 'spam',
		'rejected'  => 'trash',
	);

	/** Hook into WordPress. */
	public static function register() {
		add_action( 'rest_api_init', array( __CLASS__, 'register_route' ) );
	}

	/** The route; its permission is the signature. */
	public static function register_route() {
		register_rest_route(
			self::REST_NAMESPACE,
			self::ROUTE,
			array(
				'methods'             => 'POST',
				'callback'            => array( __CLASS__, 'handle' ),
				'permission_callback' => array( __CLASS__, 'verify' ),
			)
		);
	}

	/**
	 * The URL to give commentmod (`commentmod sites webhook SLUG --url …`).
	 *
	 * @return string
	 */
	public static function url() {
		return rest_url( self::REST_NAMESPACE . self::ROUTE );
	}

	/**
	 * Permission callback: a valid, fresh signature over the raw body.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return true|WP_Error
	 */
	public static function verify( WP_REST_Request $request ) {
		$secret = Commentmod_Settings::get( 'webhook_secret' );
		if ( '' === $secret ) {
			return new WP_Error( 'commentmod_not_configured', 'no webhook secret is configured', array( 'status' => 503 ) );
		}
		$ok = self::is_valid_signature(
			(string) $request->get_header( 'x_commentmod_signature' ),
			$request->get_body(),
			$secret,
			time()
		);
		return $ok ? true : new WP_Error( 'commentmod_bad_signature', 'invalid or expired signature', array( 'status' => 401 ) );
	}

	/**
	 * Check a signature header. Every `v1=` value is tried (a secret rotation may send two);
	 * comparisons are constant-time.
	 *
	 * @param string $header X-Commentmod-Signature.
	 * @param string $body   Raw request body.
	 * @param string $secret Webhook secret.
	 * @param int    $now    Unix time.
	 * @return bool
	 */
	public static function is_valid_signature( $header, $body, $secret, $now ) {
		$timestamp  = null;
		$signatures = array();
		foreach ( explode( ',', $header ) as $part ) {
			$pair = explode( '=', trim( $part ), 2 );
			if ( 2 !== count( $pair ) ) {
				continue;
			}
			if ( 't' === $pair[0] && ctype_digit( $pair[1] ) ) {
				$timestamp = (int) $pair[1];
			} elseif ( 'v1' === $pair[0] ) {
				$signatures[] = strtolower( $pair[1] );
			}
		}
		if ( null === $timestamp || ! $signatures || abs( $now - $timestamp ) > self::TOLERANCE ) {
			return false;
		}
		$expected = hash_hmac( 'sha256', $timestamp . '.' . $body, $secret );
		$valid    = false;
		foreach ( $signatures as $signature ) {
			$valid = hash_equals( $expected, $signature ) || $valid;
		}
		return $valid;
	}

	/**
	 * Apply a verified event.
	 *
	 * @param WP_REST_Request $request Request.
	 * @return WP_REST_Response|WP_Error
	 */
	public static function handle( WP_REST_Request $request ) {
		$event = json_decode( $request->get_body(), true );
		if ( ! is_array( $event ) || ! isset( $event['id'], $event['event'] ) || ! is_string( $event['id'] ) ) {
			return new WP_Error( 'commentmod_bad_event', 'not a commentmod event', array( 'status' => 400 ) );
		}
		if ( 'ping' === $event['event'] ) {
			return new WP_REST_Response( array( 'result' => 'pong' ), 200 );
		}
		$seen_key = 'commentmod_seen_' . md5( $event['id'] );
		if ( get_transient( $seen_key ) ) {
			return new WP_REST_Response( array( 'result' => 'duplicate' ), 200 );
		}
		$comment       = isset( $event['comment'] ) && is_array( $event['comment'] ) ? $event['comment'] : array();
		$commentmod_id = isset( $comment['id'] ) ? (string) $comment['id'] : '';
		$status        = isset( $comment['status'] ) ? (string) $comment['status'] : '';
		if ( '' === $commentmod_id || ! isset( self::WP_STATUS[ $status ] ) ) {
			return new WP_Error( 'commentmod_bad_event', 'not a comment event', array( 'status' => 400 ) );
		}
		$comment_id = Commentmod_Store::find( $commentmod_id );
		if ( ! $comment_id ) {
			// Most likely the decision outran the end of the submitting request (the id is
			// stored right after commentmod's answer): a non-2xx makes commentmod retry.
			return new WP_Error( 'commentmod_unknown_comment', 'unknown comment', array( 'status' => 404 ) );
		}
		$result = self::apply( $comment_id, $status, $comment, isset( $event['occurred_at'] ) ? (string) $event['occurred_at'] : '' );
		set_transient( $seen_key, 1, self::SEEN_TTL );
		return new WP_REST_Response( array( 'result' => $result ), 200 );
	}

	/**
	 * Record commentmod's status and reasons, and set the WordPress status unless the event
	 * is older than one already applied or a WordPress moderator's decision is on its way.
	 *
	 * @param int    $comment_id  WordPress comment id.
	 * @param string $status      commentmod status.
	 * @param array  $comment     Event's comment.
	 * @param string $occurred_at Event time (RFC 3339).
	 * @return string
	 */
	private static function apply( $comment_id, $status, $comment, $occurred_at ) {
		$last = (string) get_comment_meta( $comment_id, Commentmod_Store::EVENT_AT, true );
		if ( '' !== $last && '' !== $occurred_at && self::moment( $occurred_at ) < self::moment( $last ) ) {
			return 'stale';
		}
		$previous = (string) get_comment_meta( $comment_id, Commentmod_Store::STATUS, true );
		$reasons  = isset( $comment['reasons'] ) && is_array( $comment['reasons'] ) ? array_map( 'strval', $comment['reasons'] ) : array();
		update_comment_meta( $comment_id, Commentmod_Store::STATUS, $status );
		Commentmod_Store::put( $comment_id, Commentmod_Store::REASONS, array_map( 'sanitize_key', $reasons ) );
		update_comment_meta( $comment_id, Commentmod_Store::EVENT_AT, $occurred_at );
		$pending = (string) get_comment_meta( $comment_id, Commentmod_Store::DECISION, true );
		$target  = self::WP_STATUS[ $status ];
		$name    = self::wp_status_name( $target );
		$implied = isset( Commentmod_Moderation::ACTIONS[ $name ] ) ? Commentmod_Moderation::ACTIONS[ $name ] : '';
		if ( '' !== $pending && $implied !== $pending ) {
			return 'deferred';
		}
		$applied = Commentmod_Store::set_wp_status( $comment_id, $target );
		if ( $applied && 'hold' === $target && in_array( $previous, array( 'pending', 'queued' ), true ) ) {
			// The moderators' email WordPress did not send at submission (notify_moderator).
			wp_notify_moderator( $comment_id );
		}
		return $applied ? 'applied' : 'failed';
	}

	/**
	 * The name WordPress's transition hook uses for a target of wp_set_comment_status.
	 *
	 * @param string $target approve, hold, spam or trash.
	 * @return string
	 */
	private static function wp_status_name( $target ) {
		$names = array(
			'approve' => 'approved',
			'hold'    => 'unapproved',
		);
		return isset( $names[ $target ] ) ? $names[ $target ] : $target;
	}

	/**
	 * An RFC 3339 time as a comparable float (microseconds kept).
	 *
	 * @param string $time Time.
	 * @return float
	 */
	private static function moment( $time ) {
		try {
			return (float) ( new DateTimeImmutable( $time ) )->format( 'U.u' );
		} catch ( Exception $error ) {
			return 0.0;
		}
	}
}
