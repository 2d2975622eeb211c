<?php
/**
 * Uninstall: remove the plugin's options, cron events and comment meta. Comments stay.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

foreach ( array( 'commentmod_settings', 'commentmod_install_id', 'commentmod_retry_lock' ) as $commentmod_option ) {
	delete_option( $commentmod_option );
}
wp_clear_scheduled_hook( 'commentmod_retry' );
wp_unschedule_hook( 'commentmod_retry_due' );
$commentmod_keys = array( '_commentmod_id', '_commentmod_status', '_commentmod_reasons', '_commentmod_event_at', '_commentmod_payload', '_commentmod_retry_at', '_commentmod_attempts', '_commentmod_error', '_commentmod_wp_approval', '_commentmod_decision', '_commentmod_decision_retry_at', '_commentmod_decision_attempts' );
foreach ( $commentmod_keys as $commentmod_key ) {
	delete_metadata( 'comment', 0, $commentmod_key, '', true );
}
