<?php
/**
 * Privacy: text for the site's privacy policy, and WordPress's personal-data erasure
 * forwarded to commentmod (`POST /v1/privacy/erasure`).
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * WordPress privacy hooks.
 */
final class Commentmod_Privacy {

	/** Hook into WordPress. */
	public static function register() {
		add_action( 'admin_init', array( __CLASS__, 'add_policy_content' ) );
		add_filter( 'wp_privacy_personal_data_erasers', array( __CLASS__, 'register_eraser' ) );
	}

	/** Suggested text for Settings → Privacy → policy guide. */
	public static function add_policy_content() {
		if ( ! function_exists( 'wp_add_privacy_policy_content' ) ) {
			return;
		}
		$text = '<p class="privacy-policy-tutorial">' . esc_html__( 'This sample text explains what the commentmod plugin sends to your commentmod service. Adapt it to where your service runs.', 'commentmod' ) . '</p>'
			. '<strong class="privacy-policy-tutorial">' . esc_html__( 'Suggested text:', 'commentmod' ) . '</strong> '
			. '<p>' . esc_html__( 'When you leave a comment, we send it to our comment-moderation service (commentmod) to check it for spam and abuse: your name, email address, website, the comment text, the article it belongs to, the comment it replies to, your IP address, your browser user agent, the page you came from and the time you opened the comment form.', 'commentmod' ) . '</p>'
			. '<p>' . esc_html__( 'The service stores your email address encrypted and never shows or publishes it; it keeps your IP address only shortened (for example 203.0.113.0) and as a keyed hash. It keeps the comment and the moderation decision as long as the comment exists on this site.', 'commentmod' ) . '</p>'
			. '<p>' . esc_html__( 'When you ask us to erase your personal data, we also ask the moderation service to erase the personal data it holds about you.', 'commentmod' ) . '</p>';
		wp_add_privacy_policy_content( 'commentmod', wp_kses_post( $text ) );
	}

	/**
	 * Register the eraser (Tools → Erase Personal Data).
	 *
	 * @param array $erasers Registered erasers.
	 * @return array
	 */
	public static function register_eraser( $erasers ) {
		$erasers['commentmod'] = array(
			'eraser_friendly_name' => __( 'commentmod moderation service', 'commentmod' ),
			'callback'             => array( __CLASS__, 'erase' ),
		);
		return $erasers;
	}

	/**
	 * Erase an author's data at commentmod, and the plugin's own unsent copies of their comments.
	 *
	 * @param string $email_address The author's email.
	 * @param int    $page          Page (one is enough: the service erases everything at once).
	 * @return array{items_removed: bool, items_retained: bool, messages: string[], done: bool}
	 */
	public static function erase( $email_address, $page = 1 ) {
		$removed_locally = self::forget_unsent( $email_address );
		if ( ! Commentmod_Settings::is_configured() ) {
			return array(
				'items_removed'  => $removed_locally > 0,
				'items_retained' => false,
				'messages'       => array( __( 'commentmod is not configured: nothing was sent to it.', 'commentmod' ) ),
				'done'           => true,
			);
		}
		$response = Commentmod_Client::request(
			'POST',
			'/v1/privacy/erasure',
			Commentmod_Client::encode( array( 'author_email' => (string) $email_address ) ),
			Commentmod_Settings::get( 'api_key' ),
			array(),
			15.0
		);
		if ( $response->is_success() ) {
			$erased = isset( $response->body['erased'] ) ? (int) $response->body['erased'] : 0;
			return array(
				'items_removed'  => $erased > 0 || $removed_locally > 0,
				'items_retained' => false,
				/* translators: %d: number of comments. */
				'messages'       => array( sprintf( _n( 'commentmod erased the author data of %d comment.', 'commentmod erased the author data of %d comments.', $erased, 'commentmod' ), $erased ) ),
				'done'           => true,
			);
		}
		return array(
			'items_removed'  => $removed_locally > 0,
			'items_retained' => true,
			/* translators: %s: error code. */
			'messages'       => array( sprintf( __( 'commentmod could not erase the data (%s); run the erasure again later.', 'commentmod' ), $response->error ) ),
			'done'           => true,
		);
	}

	/**
	 * Delete the queued submission bodies (they hold the email) of this author's comments.
	 * Matched on the body's own email: WordPress's comment eraser may already have
	 * anonymised the comment itself.
	 *
	 * @param string $email_address Email.
	 * @return int Comments changed.
	 */
	private static function forget_unsent( $email_address ) {
		$ids     = get_comments(
			array(
				'status'   => array( 'hold', 'approve', 'spam', 'trash' ),
				'type'     => 'all',
				'fields'   => 'ids',
				'meta_key' => Commentmod_Store::PAYLOAD, // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_key
			)
		);
		$wanted  = strtolower( trim( (string) $email_address ) );
		$changed = 0;
		foreach ( $ids as $comment_id ) {
			$payload = get_comment_meta( (int) $comment_id, Commentmod_Store::PAYLOAD, true );
			if ( ! is_array( $payload ) || strtolower( (string) ( $payload['author_email'] ?? '' ) ) !== $wanted ) {
				continue;
			}
			delete_comment_meta( (int) $comment_id, Commentmod_Store::PAYLOAD );
			delete_comment_meta( (int) $comment_id, Commentmod_Store::RETRY_AT );
			update_comment_meta( (int) $comment_id, Commentmod_Store::STATUS, 'refused' );
			update_comment_meta( (int) $comment_id, Commentmod_Store::ERROR, 'erased_before_sending' );
			++$changed;
		}
		return $changed;
	}
}
