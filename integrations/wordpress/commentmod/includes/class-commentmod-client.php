<?php
/**
 * HTTP calls to the commentmod service (WordPress HTTP API; never throws).
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * One answer of the service: `code` 0 means it could not be reached.
 */
final class Commentmod_Response {

	/** @var int HTTP status, 0 when the request failed. */
	public $code;

	/** @var array<string, mixed>|null Decoded JSON body. */
	public $body;

	/** @var string Error code: the API's `error.code`, or a transport error. */
	public $error;

	/** @var int Seconds from Retry-After, 0 when absent. */
	public $retry_after;

	/**
	 * @param int                       $code        HTTP status or 0.
	 * @param array<string, mixed>|null $body        Decoded body.
	 * @param string                    $error       Error code.
	 * @param int                       $retry_after Retry-After seconds.
	 */
	public function __construct( $code, $body, $error = '', $retry_after = 0 ) {
		$this->code        = (int) $code;
		$this->body        = $body;
		$this->error       = (string) $error;
		$this->retry_after = (int) $retry_after;
	}

	/** @return bool A 2xx answer. */
	public function is_success() {
		return $this->code >= 200 && $this->code < 300;
	}

	/**
	 * Worth retrying later: the service was unreachable, overloaded or failing.
	 *
	 * @return bool
	 */
	public function is_transient() {
		return 0 === $this->code || 429 === $this->code || $this->code >= 500;
	}
}

/**
 * Talks to commentmod with a site key or a moderator token.
 */
final class Commentmod_Client {

	/**
	 * Send one request.
	 *
	 * @param string      $method  HTTP method.
	 * @param string      $path    Path under the service URL, starting with '/'.
	 * @param string|null $body    JSON body, already encoded.
	 * @param string      $token   Bearer credential ('' for none).
	 * @param array       $headers Extra headers.
	 * @param float       $timeout Seconds.
	 * @return Commentmod_Response
	 */
	public static function request( $method, $path, $body = null, $token = '', $headers = array(), $timeout = 5.0 ) {
		$base = Commentmod_Settings::get( 'service_url' );
		if ( '' === $base ) {
			return new Commentmod_Response( 0, null, 'not_configured' );
		}
		$headers = array_merge(
			array(
				'Accept'     => 'application/json',
				'User-Agent' => 'commentmod-wordpress/' . COMMENTMOD_VERSION,
			),
			$headers
		);
		if ( '' !== $token ) {
			$headers['Authorization'] = 'Bearer ' . $token;
		}
		$args = array(
			'method'      => $method,
			'headers'     => $headers,
			'timeout'     => (float) apply_filters( 'commentmod_http_timeout', $timeout ),
			'redirection' => 0,
		);
		if ( null !== $body ) {
			$args['headers']['Content-Type'] = 'application/json';
			$args['body']                    = $body;
		}
		$answer = wp_remote_request( $base . $path, $args );
		if ( is_wp_error( $answer ) ) {
			// The code only: a transport message may contain the URL.
			return new Commentmod_Response( 0, null, 'unreachable' );
		}
		$code    = (int) wp_remote_retrieve_response_code( $answer );
		$decoded = json_decode( (string) wp_remote_retrieve_body( $answer ), true );
		$decoded = is_array( $decoded ) ? $decoded : null;
		$error   = '';
		if ( ( $code < 200 || $code >= 300 ) && isset( $decoded['error']['code'] ) ) {
			$error = (string) $decoded['error']['code'];
		} elseif ( $code < 200 || $code >= 300 ) {
			$error = 'http_' . $code;
		}
		$retry_after = (int) wp_remote_retrieve_header( $answer, 'retry-after' );
		return new Commentmod_Response( $code, $decoded, $error, $retry_after );
	}

	/**
	 * Encode a request body the same way every time (retries must send identical bytes for
	 * the Idempotency-Key to be honoured).
	 *
	 * @param array<string, mixed> $data Body.
	 * @return string
	 */
	public static function encode( $data ) {
		return (string) wp_json_encode( $data, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
	}
}
