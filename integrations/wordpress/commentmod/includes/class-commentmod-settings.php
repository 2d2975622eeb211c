<?php
/**
 * The plugin's settings: one option array, read through typed accessors.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * Reads and sanitizes the `commentmod_settings` option.
 */
final class Commentmod_Settings {

	const OPTION = 'commentmod_settings';

	/** When commentmod cannot be reached: keep the comment held (the default). */
	const UNREACHABLE_HOLD = 'hold';

	/** When commentmod cannot be reached: apply WordPress's own decision meanwhile. */
	const UNREACHABLE_WORDPRESS = 'wordpress';

	/**
	 * The stored settings merged over the defaults.
	 *
	 * @return array{service_url: string, api_key: string, webhook_secret: string, moderator_token: string, unreachable: string}
	 */
	public static function all() {
		$stored = get_option( self::OPTION, array() );
		$stored = is_array( $stored ) ? $stored : array();
		return array_merge( self::defaults(), array_intersect_key( $stored, self::defaults() ) );
	}

	/**
	 * Defaults: nothing configured, hold when unreachable.
	 *
	 * @return array<string, string>
	 */
	public static function defaults() {
		return array(
			'service_url'     => '',
			'api_key'         => '',
			'webhook_secret'  => '',
			'moderator_token' => '',
			'unreachable'     => self::UNREACHABLE_HOLD,
		);
	}

	/**
	 * One setting.
	 *
	 * @param string $name Setting name.
	 * @return string
	 */
	public static function get( $name ) {
		$all = self::all();
		return isset( $all[ $name ] ) ? (string) $all[ $name ] : '';
	}

	/**
	 * Whether comments can be sent: a service URL and a site key are set.
	 *
	 * @return bool
	 */
	public static function is_configured() {
		return '' !== self::get( 'service_url' ) && '' !== self::get( 'api_key' );
	}

	/**
	 * Sanitize the settings form. A secret left blank keeps the stored one (secrets are never
	 * echoed back into the page); the "clear" checkbox of a secret removes it.
	 *
	 * @param mixed $input Submitted values.
	 * @return array<string, string>
	 */
	public static function sanitize( $input ) {
		$input   = is_array( $input ) ? $input : array();
		$current = self::all();
		$clean   = $current;

		$url = isset( $input['service_url'] ) ? esc_url_raw( trim( (string) $input['service_url'] ), array( 'http', 'https' ) ) : '';
		$clean['service_url'] = untrailingslashit( $url );

		foreach ( array( 'api_key', 'webhook_secret', 'moderator_token' ) as $secret ) {
			$value = isset( $input[ $secret ] ) ? trim( sanitize_text_field( (string) $input[ $secret ] ) ) : '';
			if ( '' !== $value ) {
				$clean[ $secret ] = $value;
			} elseif ( ! empty( $input[ 'clear_' . $secret ] ) ) {
				$clean[ $secret ] = '';
			}
		}

		$mode               = isset( $input['unreachable'] ) ? (string) $input['unreachable'] : '';
		$clean['unreachable'] = self::UNREACHABLE_WORDPRESS === $mode ? self::UNREACHABLE_WORDPRESS : self::UNREACHABLE_HOLD;
		return $clean;
	}

	/**
	 * Seconds before the first retry of a comment or decision that could not be sent; doubled
	 * at each attempt up to one hour. Sites (and tests) may define COMMENTMOD_RETRY_BASE_SECONDS.
	 *
	 * @return int
	 */
	public static function retry_base_seconds() {
		$base = defined( 'COMMENTMOD_RETRY_BASE_SECONDS' ) ? (int) COMMENTMOD_RETRY_BASE_SECONDS : 60;
		return (int) apply_filters( 'commentmod_retry_base_seconds', max( 1, $base ) );
	}
}
