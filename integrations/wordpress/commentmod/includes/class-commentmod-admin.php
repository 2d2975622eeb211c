<?php
/**
 * Settings → commentmod: the settings form and the "Test connection" button.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * The admin screens (manage_options only).
 */
final class Commentmod_Admin {

	const PAGE = 'commentmod';

	const TEST_ACTION = 'commentmod_test_connection';

	/** Hook into WordPress. */
	public static function register() {
		add_action( 'admin_menu', array( __CLASS__, 'add_page' ) );
		add_action( 'admin_init', array( __CLASS__, 'register_setting' ) );
		add_action( 'admin_post_' . self::TEST_ACTION, array( __CLASS__, 'test_connection' ) );
		add_action( 'admin_notices', array( __CLASS__, 'notice_unconfigured' ) );
		add_filter( 'plugin_action_links_' . plugin_basename( COMMENTMOD_FILE ), array( __CLASS__, 'action_links' ) );
	}

	/** Settings → commentmod. */
	public static function add_page() {
		add_options_page( __( 'commentmod', 'commentmod' ), __( 'commentmod', 'commentmod' ), 'manage_options', self::PAGE, array( __CLASS__, 'render_page' ) );
	}

	/** The option, sanitized by Commentmod_Settings::sanitize (options.php checks the nonce). */
	public static function register_setting() {
		register_setting(
			self::PAGE,
			Commentmod_Settings::OPTION,
			array(
				'type'              => 'array',
				'sanitize_callback' => array( 'Commentmod_Settings', 'sanitize' ),
				'show_in_rest'      => false,
			)
		);
	}

	/**
	 * A "Settings" link on the Plugins screen.
	 *
	 * @param string[] $links Links.
	 * @return string[]
	 */
	public static function action_links( $links ) {
		$url = admin_url( 'options-general.php?page=' . self::PAGE );
		array_unshift( $links, '<a href="' . esc_url( $url ) . '">' . esc_html__( 'Settings', 'commentmod' ) . '</a>' );
		return $links;
	}

	/** Tell administrators that comments are not being checked yet. */
	public static function notice_unconfigured() {
		if ( Commentmod_Settings::is_configured() || ! current_user_can( 'manage_options' ) ) {
			return;
		}
		$url = admin_url( 'options-general.php?page=' . self::PAGE );
		echo '<div class="notice notice-warning"><p>' . esc_html__( 'commentmod is active but not configured: comments are not checked yet.', 'commentmod' )
			. ' <a href="' . esc_url( $url ) . '">' . esc_html__( 'Configure it', 'commentmod' ) . '</a></p></div>';
	}

	/**
	 * Describe a stored secret without revealing it.
	 *
	 * @param string $value Secret.
	 * @return string
	 */
	private static function secret_hint( $value ) {
		if ( '' === $value ) {
			return __( 'not set', 'commentmod' );
		}
		/* translators: %s: last four characters of the secret. */
		return sprintf( __( 'set (ends in …%s); leave blank to keep it', 'commentmod' ), substr( $value, -4 ) );
	}

	/** The page. */
	public static function render_page() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to manage these settings.', 'commentmod' ) );
		}
		$settings = Commentmod_Settings::all();
		$name     = Commentmod_Settings::OPTION;
		$secrets  = array(
			'api_key'         => array( __( 'Site API key', 'commentmod' ), __( 'The api_key printed by: commentmod sites create SLUG --webhook-url URL', 'commentmod' ) ),
			'webhook_secret'  => array( __( 'Webhook secret', 'commentmod' ), __( 'The webhook_secret printed by the same command: verifies the decisions commentmod sends.', 'commentmod' ) ),
			'moderator_token' => array( __( 'Moderator token', 'commentmod' ), __( 'Optional. The token printed by: commentmod moderators create NAME --site SLUG. Sends decisions made here back to commentmod, where they become labels.', 'commentmod' ) ),
		);
		echo '<div class="wrap"><h1>' . esc_html__( 'commentmod', 'commentmod' ) . '</h1>';
		self::render_test_results();
		echo '<form method="post" action="' . esc_url( admin_url( 'options.php' ) ) . '">';
		settings_fields( self::PAGE );
		echo '<table class="form-table" role="presentation"><tr><th scope="row"><label for="commentmod-url">' . esc_html__( 'Service URL', 'commentmod' ) . '</label></th><td>';
		printf( '<input type="url" class="regular-text code" id="commentmod-url" name="%s[service_url]" value="%s" placeholder="https://commentmod.example.org">', esc_attr( $name ), esc_attr( $settings['service_url'] ) );
		echo '</td></tr>';
		foreach ( $secrets as $key => $labels ) {
			printf(
				'<tr><th scope="row"><label for="commentmod-%1$s">%2$s</label></th><td><input type="password" class="regular-text code" id="commentmod-%1$s" name="%3$s[%1$s]" value="" autocomplete="off"> <span class="description">%4$s</span>',
				esc_attr( $key ),
				esc_html( $labels[0] ),
				esc_attr( $name ),
				esc_html( self::secret_hint( $settings[ $key ] ) )
			);
			if ( '' !== $settings[ $key ] ) {
				printf( ' <label><input type="checkbox" name="%s[clear_%s]" value="1"> %s</label>', esc_attr( $name ), esc_attr( $key ), esc_html__( 'clear', 'commentmod' ) );
			}
			echo '<p class="description">' . esc_html( $labels[1] ) . '</p></td></tr>';
		}
		echo '<tr><th scope="row">' . esc_html__( 'When commentmod is unreachable', 'commentmod' ) . '</th><td><fieldset>';
		$modes = array(
			Commentmod_Settings::UNREACHABLE_HOLD      => __( 'Hold new comments for moderation until commentmod has checked them (recommended)', 'commentmod' ),
			Commentmod_Settings::UNREACHABLE_WORDPRESS => __( "Let WordPress decide meanwhile (its own discussion settings); commentmod's decision still applies when it arrives", 'commentmod' ),
		);
		foreach ( $modes as $value => $label ) {
			printf( '<label><input type="radio" name="%s[unreachable]" value="%s" %s> %s</label><br>', esc_attr( $name ), esc_attr( $value ), checked( $settings['unreachable'], $value, false ), esc_html( $label ) );
		}
		echo '<p class="description">' . esc_html__( 'Either way nothing is lost: unsent comments are retried by WP-Cron with backoff.', 'commentmod' ) . '</p></fieldset></td></tr>';
		echo '<tr><th scope="row">' . esc_html__( 'Webhook URL', 'commentmod' ) . '</th><td><code>' . esc_html( Commentmod_Webhook::url() ) . '</code><p class="description">'
			. esc_html__( 'Give this URL to commentmod: commentmod sites webhook SLUG --url <this URL>', 'commentmod' ) . '</p></td></tr></table>';
		submit_button();
		echo '</form><h2>' . esc_html__( 'Test connection', 'commentmod' ) . '</h2><form method="post" action="' . esc_url( admin_url( 'admin-post.php' ) ) . '">';
		echo '<input type="hidden" name="action" value="' . esc_attr( self::TEST_ACTION ) . '">';
		wp_nonce_field( self::TEST_ACTION );
		submit_button( __( 'Test connection', 'commentmod' ), 'secondary', 'submit', false );
		echo '</form></div>';
	}

	/** The last test's results for this user, shown once. */
	private static function render_test_results() {
		$key     = 'commentmod_test_' . get_current_user_id();
		$results = get_transient( $key );
		if ( ! is_array( $results ) ) {
			return;
		}
		delete_transient( $key );
		echo '<div class="notice notice-info"><ul>';
		foreach ( $results as $result ) {
			printf(
				'<li class="commentmod-check-%1$s"><strong>%2$s</strong>: %3$s &mdash; %4$s</li>',
				$result['ok'] ? 'ok' : 'failed',
				esc_html( $result['name'] ),
				$result['ok'] ? esc_html__( 'OK', 'commentmod' ) : esc_html__( 'FAILED', 'commentmod' ),
				esc_html( $result['detail'] )
			);
		}
		echo '</ul></div>';
	}

	/** admin-post.php?action=commentmod_test_connection: run the checks, show them on the page. */
	public static function test_connection() {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'Sorry, you are not allowed to do that.', 'commentmod' ), 403 );
		}
		check_admin_referer( self::TEST_ACTION );
		set_transient( 'commentmod_test_' . get_current_user_id(), Commentmod_Connection_Test::run(), 5 * MINUTE_IN_SECONDS );
		wp_safe_redirect( admin_url( 'options-general.php?page=' . self::PAGE ) );
		exit;
	}
}
