<?php
/**
 * Test helper run with php-cli against the test WordPress: install, activate the plugin,
 * read a comment's state. Usage: php wp_tool.php DOCROOT COMMAND [JSON]. Prints JSON.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

if ( PHP_SAPI !== 'cli' || $argc < 3 ) {
	exit( 2 );
}
$docroot = $argv[1];
$command = $argv[2];
$arg     = $argc > 3 ? json_decode( $argv[3], true ) : array();

$_SERVER['HTTP_HOST']       = 'localhost';
$_SERVER['SERVER_NAME']     = 'localhost';
$_SERVER['REQUEST_URI']     = '/';
$_SERVER['REQUEST_METHOD']  = 'GET';
$_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
if ( 'install' === $command ) {
	define( 'WP_INSTALLING', true );
}
require $docroot . '/wp-load.php';

switch ( $command ) {
	case 'install':
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$result = wp_install( 'commentmod e2e', 'admin', 'admin@example.com', true, '', $arg['admin_password'] );
		$out    = array( 'user_id' => $result['user_id'] );
		break;
	case 'activate':
		require_once ABSPATH . 'wp-admin/includes/plugin.php';
		$result = activate_plugin( 'commentmod/commentmod.php' );
		if ( is_wp_error( $result ) ) {
			fwrite( STDERR, $result->get_error_message() . "\n" );
			exit( 1 );
		}
		update_option( 'commentmod_settings', $arg['settings'] );
		$out = array(
			'active'        => is_plugin_active( 'commentmod/commentmod.php' ),
			'recurring_at'  => wp_next_scheduled( 'commentmod_retry' ),
			'webhook_url'   => Commentmod_Webhook::url(),
			'post_url'      => get_permalink( 1 ),
		);
		break;
	case 'settings':
		update_option( 'commentmod_settings', array_merge( Commentmod_Settings::all(), $arg ) );
		$out = Commentmod_Settings::all();
		unset( $out['api_key'], $out['webhook_secret'], $out['moderator_token'] );
		break;
	case 'comment':
		$comment = get_comment( (int) $arg['id'] );
		$meta    = array();
		foreach ( get_comment_meta( (int) $arg['id'] ) as $key => $values ) {
			if ( 0 === strpos( $key, '_commentmod_' ) ) {
				$meta[ substr( $key, strlen( '_commentmod_' ) ) ] = maybe_unserialize( $values[0] );
			}
		}
		$out = array(
			'id'        => (int) $comment->comment_ID,
			'wp_status' => wp_get_comment_status( $comment ),
			'content'   => $comment->comment_content,
			'meta'      => $meta,
		);
		break;
	case 'erase':
		// What Tools → Erase Personal Data runs for this plugin's eraser.
		$erasers = apply_filters( 'wp_privacy_personal_data_erasers', array() );
		$out     = call_user_func( $erasers['commentmod']['callback'], $arg['email'], 1 );
		break;
	default:
		exit( 2 );
}
echo wp_json_encode( $out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES );
