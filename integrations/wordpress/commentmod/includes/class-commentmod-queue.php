<?php
/**
 * The retry queue: comments and moderator decisions that could not be sent are retried by
 * WP-Cron with exponential backoff. Nothing is dropped while commentmod is unreachable.
 *
 * @package commentmod
 * @license GPL-2.0-or-later
 */

defined( 'ABSPATH' ) || exit;

/**
 * WP-Cron retries.
 */
final class Commentmod_Queue {

	/** Recurring safety-net event. */
	const RECURRING_HOOK = 'commentmod_retry';

	/** One-off event at the next due time. */
	const DUE_HOOK = 'commentmod_retry_due';

	/** Longest wait between two attempts, in seconds. */
	const MAX_INTERVAL = 3600;

	/** Comments or decisions handled per run. */
	const BATCH = 25;

	/** Option used as a lock so two cron runs never send the same item at once. */
	const LOCK = 'commentmod_retry_lock';

	/** Hook into WordPress. */
	public static function register() {
		add_filter( 'cron_schedules', array( __CLASS__, 'add_schedule' ) ); // phpcs:ignore WordPress.WP.CronInterval.CronSchedulesInterval -- a one-minute safety net is the point.
		add_action( self::RECURRING_HOOK, array( __CLASS__, 'run' ) );
		add_action( self::DUE_HOOK, array( __CLASS__, 'run' ) );
		// Re-create the recurring event if it went missing (e.g. a restored database).
		add_action( 'init', array( __CLASS__, 'ensure_scheduled' ) );
	}

	/**
	 * A one-minute schedule.
	 *
	 * @param array $schedules Known schedules.
	 * @return array
	 */
	public static function add_schedule( $schedules ) {
		$schedules['commentmod_minute'] = array(
			'interval' => MINUTE_IN_SECONDS,
			'display'  => __( 'Every minute (commentmod retries)', 'commentmod' ),
		);
		return $schedules;
	}

	/** Activation: schedule the recurring run. */
	public static function activate() {
		self::ensure_scheduled();
	}

	/** Deactivation: remove the plugin's cron events (queued items stay in comment meta). */
	public static function deactivate() {
		wp_clear_scheduled_hook( self::RECURRING_HOOK );
		wp_unschedule_hook( self::DUE_HOOK );
	}

	/** Schedule the recurring run when it is missing. */
	public static function ensure_scheduled() {
		if ( ! wp_next_scheduled( self::RECURRING_HOOK ) ) {
			wp_schedule_event( time() + MINUTE_IN_SECONDS, 'commentmod_minute', self::RECURRING_HOOK );
		}
	}

	/**
	 * Ask WP-Cron for a run at (or soon after) a time.
	 *
	 * @param int $at Unix time.
	 */
	public static function schedule( $at ) {
		// The time is the argument: WordPress refuses a second identical event within ten
		// minutes, and each due time needs its own.
		wp_schedule_single_event( (int) $at, self::DUE_HOOK, array( (int) $at ) );
	}

	/**
	 * Seconds to wait after the n-th failed attempt: base · 2^(n-1), at most an hour.
	 *
	 * @param int $attempts Failed attempts so far (1 or more).
	 * @return int
	 */
	public static function backoff( $attempts ) {
		$exponent = min( 16, max( 0, (int) $attempts - 1 ) );
		return (int) min( self::MAX_INTERVAL, Commentmod_Settings::retry_base_seconds() * ( 2 ** $exponent ) );
	}

	/**
	 * Send every comment and decision that is due. Safe to run concurrently: a second run
	 * while one holds the lock does nothing.
	 */
	public static function run() {
		if ( ! self::lock() ) {
			return;
		}
		try {
			foreach ( self::due( Commentmod_Store::RETRY_AT ) as $comment_id ) {
				Commentmod_Submission::attempt( $comment_id );
			}
			foreach ( self::due( Commentmod_Store::DECISION_RETRY_AT ) as $comment_id ) {
				Commentmod_Moderation::attempt( $comment_id );
			}
		} finally {
			delete_option( self::LOCK );
		}
	}

	/**
	 * Comments whose retry time (meta key) has passed, oldest first.
	 *
	 * @param string $meta_key Store::RETRY_AT or Store::DECISION_RETRY_AT.
	 * @return int[]
	 */
	private static function due( $meta_key ) {
		$ids = get_comments(
			array(
				'status'     => array( 'hold', 'approve', 'spam', 'trash' ),
				'type'       => 'all',
				'fields'     => 'ids',
				'number'     => self::BATCH,
				'meta_query' => array( // phpcs:ignore WordPress.DB.SlowDBQuery.slow_db_query_meta_query
					array(
						'key'     => $meta_key,
						'value'   => time(),
						'compare' => '<=',
						'type'    => 'NUMERIC',
					),
				),
				'orderby'    => 'comment_ID',
				'order'      => 'ASC',
			)
		);
		return array_map( 'intval', $ids );
	}

	/**
	 * Take the run lock (an option: add_option is atomic on its unique name). A lock older
	 * than ten minutes belongs to a run that died and is taken over.
	 *
	 * @return bool
	 */
	private static function lock() {
		if ( add_option( self::LOCK, time(), '', 'no' ) ) {
			return true;
		}
		$since = (int) get_option( self::LOCK );
		if ( $since && $since < time() - 10 * MINUTE_IN_SECONDS ) {
			update_option( self::LOCK, time(), false );
			return true;
		}
		return false;
	}
}
