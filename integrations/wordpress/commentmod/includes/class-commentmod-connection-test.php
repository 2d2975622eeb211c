<?php
/**
 * "Test connection": readiness, the site key, the moderator token and a signed no-op event to
 * this site's own decisions route.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Runs the connection checks; each answers ok + a short detail (codes, never secrets).
 */
final class Commentmod_Connection_Test {

	/**
	 * Run every check.
	 *
	 * @return array<int, array{name: string, ok: bool, detail: string}>
	 */
	public static function run() {
		return array(
			self::readiness(),
			self::site_key(),
			self::moderator_token(),
			self::signed_ping(),
		);
	}

	/**
	 * One result.
	 *
	 * @param string $name   Check.
	 * @param bool   $ok     Passed.
	 * @param string $detail What was seen.
	 * @return array{name: string, ok: bool, detail: string}
	 */
	private static function result( $name, $ok, $detail ) {
		return array(
			'name'   => $name,
			'ok'     => (bool) $ok,
			'detail' => (string) $detail,
		);
	}

	/**
	 * GET /readyz: the service, its database and its broker.
	 *
	 * @return array{name: string, ok: bool, detail: string}
	 */
	private static function readiness() {
		$r = Commentmod_Client::request( 'GET', '/readyz' );
		if ( 0 === $r->code ) {
			return self::result( 'readyz', false, __( 'the service URL cannot be reached', 'commentmod' ) . ' (' . $r->error . ')' );
		}
		return self::result( 'readyz', 200 === $r->code, 200 === $r->code ? __( 'ready', 'commentmod' ) : sprintf( 'HTTP %d', $r->code ) );
	}

	/**
	 * The site key, with a read that changes nothing: a comment id that cannot exist answers
	 * 404 to a valid key and 401 to an invalid one.
	 *
	 * @return array{name: string, ok: bool, detail: string}
	 */
	private static function site_key() {
		$key = Commentmod_Settings::get( 'api_key' );
		if ( '' === $key ) {
			return self::result( 'site API key', false, __( 'not set', 'commentmod' ) );
		}
		$r = Commentmod_Client::request( 'GET', '/v1/comments/commentmod-connection-test', null, $key );
		return self::result( 'site API key', 404 === $r->code, 404 === $r->code ? __( 'accepted', 'commentmod' ) : ( '' !== $r->error ? $r->error : 'HTTP ' . $r->code ) );
	}

	/**
	 * The moderator token (optional): GET /v1/moderation/audit?limit=1.
	 *
	 * @return array{name: string, ok: bool, detail: string}
	 */
	private static function moderator_token() {
		$token = Commentmod_Settings::get( 'moderator_token' );
		if ( '' === $token ) {
			return self::result( 'moderator token', true, __( 'not set: decisions made in WordPress stay in WordPress', 'commentmod' ) );
		}
		$r = Commentmod_Client::request( 'GET', '/v1/moderation/audit?limit=1', null, $token );
		return self::result( 'moderator token', 200 === $r->code, 200 === $r->code ? __( 'accepted', 'commentmod' ) : ( '' !== $r->error ? $r->error : 'HTTP ' . $r->code ) );
	}

	/**
	 * A `ping` event signed with the webhook secret, POSTed to this site's decisions route the
	 * way commentmod would: proves the route is reachable and the secret verifies.
	 *
	 * @return array{name: string, ok: bool, detail: string}
	 */
	private static function signed_ping() {
		$secret = Commentmod_Settings::get( 'webhook_secret' );
		if ( '' === $secret ) {
			return self::result( 'webhook', false, __( 'no webhook secret: decisions cannot be verified', 'commentmod' ) );
		}
		$body   = Commentmod_Client::encode(
			array(
				'id'          => wp_generate_uuid4(),
				'event'       => 'ping',
				'occurred_at' => gmdate( 'Y-m-d\TH:i:s\Z' ),
			)
		);
		$time   = time();
		$answer = wp_remote_post(
			Commentmod_Webhook::url(),
			array(
				'timeout'     => 10,
				'redirection' => 0,
				'headers'     => array(
					'Content-Type'           => 'application/json',
					'X-Commentmod-Signature' => 't=' . $time . ',v1=' . hash_hmac( 'sha256', $time . '.' . $body, $secret ),
				),
				'body'        => $body,
			)
		);
		if ( is_wp_error( $answer ) ) {
			return self::result( 'webhook', false, __( 'this site could not reach its own decisions route (loopback request failed)', 'commentmod' ) );
		}
		$code = (int) wp_remote_retrieve_response_code( $answer );
		return self::result( 'webhook', 200 === $code, 200 === $code ? __( 'signed no-op accepted by the decisions route', 'commentmod' ) : sprintf( 'HTTP %d', $code ) );
	}
}
