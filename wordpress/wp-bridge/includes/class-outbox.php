<?php
/**
 * The outbox table: every event, from the hook that made it to its delivery.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Hooks only ever insert here, so a visitor's request costs one INSERT; the
 * sender works through the rows later. The body is encoded once, at insert,
 * so every attempt sends the same bytes with the same event id.
 */
final class Outbox {

	public const PENDING  = 'pending';
	public const RETRYING = 'retrying';
	public const SENT     = 'sent';
	public const FAILED   = 'failed';

	/** Bump when the schema below changes; dbDelta brings tables up to date. */
	public const SCHEMA_VERSION = '1';

	/** How long a sender may hold a row before another may take it (seconds). */
	public const LEASE = 60;

	/**
	 * The table's name.
	 */
	public static function table(): string {
		global $wpdb;
		return $wpdb->prefix . 'wp_bridge_outbox';
	}

	/**
	 * Creates or updates the table.
	 */
	public static function install(): void {
		global $wpdb;
		require_once ABSPATH . 'wp-admin/includes/upgrade.php';
		$table   = self::table();
		$charset = $wpdb->get_charset_collate();
		// dbDelta's parser wants this layout: one column per line, two spaces
		// after PRIMARY KEY. dedupe_key is NULL for events without one; NULLs
		// do not collide in a UNIQUE index.
		dbDelta(
			"CREATE TABLE {$table} (
  id bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  event_id varchar(128) NOT NULL,
  event_type varchar(32) NOT NULL,
  dedupe_key varchar(191) DEFAULT NULL,
  body longtext NOT NULL,
  state varchar(16) NOT NULL DEFAULT 'pending',
  attempts smallint(5) unsigned NOT NULL DEFAULT 0,
  next_attempt_at bigint(20) NOT NULL DEFAULT 0,
  locked_until bigint(20) NOT NULL DEFAULT 0,
  last_status smallint(5) unsigned DEFAULT NULL,
  last_error varchar(64) NOT NULL DEFAULT '',
  last_response text NULL,
  created_at bigint(20) NOT NULL,
  updated_at bigint(20) NOT NULL,
  sent_at bigint(20) DEFAULT NULL,
  PRIMARY KEY  (id),
  UNIQUE KEY event_id (event_id),
  UNIQUE KEY dedupe_key (dedupe_key),
  KEY due (state,next_attempt_at),
  KEY updated_at (updated_at)
) {$charset};"
		);
		update_option( 'wp_bridge_schema_version', self::SCHEMA_VERSION, false );
	}

	/**
	 * Drops the table (uninstall).
	 */
	public static function drop(): void {
		global $wpdb;
		$wpdb->query( 'DROP TABLE IF EXISTS ' . self::table() ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared,WordPress.DB.DirectDatabaseQuery.SchemaChange -- table names cannot be placeholders; the name is ours.
	}

	/**
	 * Queues an event.
	 *
	 * @param string      $type       Event type.
	 * @param array       $data       Its data.
	 * @param string|null $dedupe_key Same key, same event: a second add is ignored
	 *                                (one order.created per order when WooCommerce
	 *                                fires two hooks for it).
	 * @return string|null The new event id; null when the key was already queued.
	 */
	public static function add( string $type, array $data, ?string $dedupe_key = null ): ?string {
		global $wpdb;
		$event_id = wp_generate_uuid4();
		$body     = Envelope::encode( $type, $event_id, home_url(), $data );
		$now      = time();
		$table    = self::table();
		// INSERT IGNORE: the unique dedupe key settles races between two hooks
		// (or two requests) for the same object without a read first.
		$sql = null === $dedupe_key
			? $wpdb->prepare(
				"INSERT IGNORE INTO {$table} (event_id, event_type, dedupe_key, body, state, next_attempt_at, created_at, updated_at) VALUES (%s, %s, NULL, %s, %s, %d, %d, %d)", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				$event_id,
				$type,
				$body,
				self::PENDING,
				$now,
				$now,
				$now
			)
			: $wpdb->prepare(
				"INSERT IGNORE INTO {$table} (event_id, event_type, dedupe_key, body, state, next_attempt_at, created_at, updated_at) VALUES (%s, %s, %s, %s, %s, %d, %d, %d)", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				$event_id,
				$type,
				substr( $dedupe_key, 0, 191 ),
				$body,
				self::PENDING,
				$now,
				$now,
				$now
			);
		$inserted = $wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared,WordPress.DB.DirectDatabaseQuery -- prepared above; the outbox is not cacheable.
		if ( 1 !== $inserted ) {
			return null;
		}
		/**
		 * Fires after an event is queued.
		 *
		 * @param string $event_id Event id.
		 * @param string $type     Event type.
		 */
		do_action( 'wp_bridge_queued', $event_id, $type );
		return $event_id;
	}

	/**
	 * Ids of rows due now, oldest due first.
	 *
	 * @param int $now   Unix time.
	 * @param int $limit At most this many.
	 * @return int[]
	 */
	public static function due( int $now, int $limit ): array {
		global $wpdb;
		$table = self::table();
		$ids   = $wpdb->get_col( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare(
				"SELECT id FROM {$table} WHERE state IN (%s, %s) AND next_attempt_at <= %d AND locked_until < %d ORDER BY next_attempt_at, id LIMIT %d", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				self::PENDING,
				self::RETRYING,
				$now,
				$now,
				$limit
			)
		);
		return array_map( 'intval', $ids );
	}

	/**
	 * Takes a row for one attempt, unless another sender (the cron run, a
	 * concurrent request's shutdown) has it. The lease outlives the 5 s
	 * request timeout; if PHP dies mid-attempt the row is free again after
	 * it, and the gateway deduplicates the repeat.
	 *
	 * @param int $id  Row id.
	 * @param int $now Unix time.
	 * @return object|null The row, when this caller holds it.
	 */
	public static function claim( int $id, int $now ): ?object {
		global $wpdb;
		$table   = self::table();
		$claimed = $wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare(
				"UPDATE {$table} SET locked_until = %d WHERE id = %d AND state IN (%s, %s) AND locked_until < %d", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				$now + self::LEASE,
				$id,
				self::PENDING,
				self::RETRYING,
				$now
			)
		);
		return 1 === $claimed ? self::find( $id ) : null;
	}

	/**
	 * Records an attempt and releases the row.
	 *
	 * @param object  $row     The claimed row.
	 * @param Outcome $outcome What the attempt came to.
	 * @param array   $next    Retry_Policy::next().
	 * @param int     $now     Unix time.
	 */
	public static function record( object $row, Outcome $outcome, array $next, int $now ): void {
		global $wpdb;
		$wpdb->update( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			self::table(),
			array(
				'state'           => $next['state'],
				'attempts'        => (int) $row->attempts + 1,
				'next_attempt_at' => $next['next_attempt_at'],
				'locked_until'    => 0,
				'last_status'     => $outcome->status,
				'last_error'      => $outcome->code,
				'last_response'   => $outcome->summary,
				'updated_at'      => $now,
				'sent_at'         => self::SENT === $next['state'] ? $now : null,
			),
			array( 'id' => (int) $row->id ),
			// $wpdb writes NULL for null values whatever their format.
			array( '%s', '%d', '%d', '%d', '%d', '%s', '%s', '%d', '%d' ),
			array( '%d' )
		);
	}

	/**
	 * Releases a claimed row without counting an attempt (nothing was sent:
	 * the plugin is not configured yet).
	 *
	 * @param int $id Row id.
	 */
	public static function release( int $id ): void {
		global $wpdb;
		$wpdb->update( self::table(), array( 'locked_until' => 0 ), array( 'id' => $id ), array( '%d' ), array( '%d' ) ); // phpcs:ignore WordPress.DB.DirectDatabaseQuery
	}

	/**
	 * Puts failed rows (or one of them) back in the queue with a fresh set of
	 * attempts and the same event id.
	 *
	 * @param int|null $id One row, or every failed row when null.
	 * @return int Rows requeued.
	 */
	public static function requeue_failed( ?int $id = null ): int {
		global $wpdb;
		$table = self::table();
		$now   = time();
		$sql   = null === $id
			? $wpdb->prepare( "UPDATE {$table} SET state = %s, attempts = 0, next_attempt_at = %d, locked_until = 0, updated_at = %d WHERE state = %s", self::PENDING, $now, $now, self::FAILED ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
			: $wpdb->prepare( "UPDATE {$table} SET state = %s, attempts = 0, next_attempt_at = %d, locked_until = 0, updated_at = %d WHERE state = %s AND id = %d", self::PENDING, $now, $now, self::FAILED, $id ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
		return (int) $wpdb->query( $sql ); // phpcs:ignore WordPress.DB.PreparedSQL.NotPrepared,WordPress.DB.DirectDatabaseQuery -- prepared above.
	}

	/**
	 * Deletes finished rows (sent or failed) last touched before $before.
	 * Rows still waiting to be sent are never purged.
	 *
	 * @param int $before Unix time.
	 * @return int Rows deleted.
	 */
	public static function purge( int $before ): int {
		global $wpdb;
		$table   = self::table();
		$deleted = 0;
		do {
			// Batches keep each DELETE's locks short on a busy site.
			$batch    = (int) $wpdb->query( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
				$wpdb->prepare(
					"DELETE FROM {$table} WHERE state IN (%s, %s) AND updated_at < %d LIMIT 500", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
					self::SENT,
					self::FAILED,
					$before
				)
			);
			$deleted += $batch;
		} while ( 500 === $batch );
		return $deleted;
	}

	/**
	 * One row.
	 *
	 * @param int $id Row id.
	 */
	public static function find( int $id ): ?object {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( $wpdb->prepare( "SELECT * FROM {$table} WHERE id = %d", $id ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.DirectDatabaseQuery -- table name.
		return $row ? $row : null;
	}

	/**
	 * Recent rows for the admin screen, newest first.
	 *
	 * @param string $state  Only this state; '' for all.
	 * @param int    $limit  Page size.
	 * @param int    $offset Rows to skip.
	 * @return object[]
	 */
	public static function recent( string $state, int $limit, int $offset ): array {
		global $wpdb;
		$table = self::table();
		$rows  = '' === $state
			? $wpdb->get_results( $wpdb->prepare( "SELECT id, event_id, event_type, state, attempts, next_attempt_at, last_status, last_error, last_response, created_at, updated_at, sent_at FROM {$table} ORDER BY id DESC LIMIT %d OFFSET %d", $limit, $offset ) ) // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.DirectDatabaseQuery -- table name.
			: $wpdb->get_results( $wpdb->prepare( "SELECT id, event_id, event_type, state, attempts, next_attempt_at, last_status, last_error, last_response, created_at, updated_at, sent_at FROM {$table} WHERE state = %s ORDER BY id DESC LIMIT %d OFFSET %d", $state, $limit, $offset ) ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.DirectDatabaseQuery -- table name.
		return is_array( $rows ) ? $rows : array();
	}

	/**
	 * Rows per state.
	 *
	 * @return array<string,int>
	 */
	public static function counts(): array {
		global $wpdb;
		$table  = self::table();
		$counts = array_fill_keys( array( self::PENDING, self::RETRYING, self::SENT, self::FAILED ), 0 );
		$rows   = $wpdb->get_results( "SELECT state, COUNT(*) AS n FROM {$table} GROUP BY state" ); // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared,WordPress.DB.DirectDatabaseQuery -- no input; table name.
		foreach ( (array) $rows as $row ) {
			$counts[ $row->state ] = (int) $row->n;
		}
		return $counts;
	}

	/**
	 * Rows that keep failing: failed, or retried at least $attempts times.
	 *
	 * @param int $attempts Threshold.
	 * @return object|null Count and the latest error, or null when none.
	 */
	public static function troubled( int $attempts ): ?object {
		global $wpdb;
		$table = self::table();
		$row   = $wpdb->get_row( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare(
				"SELECT COUNT(*) AS n, MAX(updated_at) AS latest FROM {$table} WHERE state = %s OR (state = %s AND attempts >= %d)", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				self::FAILED,
				self::RETRYING,
				$attempts
			)
		);
		if ( ! $row || 0 === (int) $row->n ) {
			return null;
		}
		$last = $wpdb->get_row( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
			$wpdb->prepare(
				"SELECT last_status, last_error FROM {$table} WHERE state = %s OR (state = %s AND attempts >= %d) ORDER BY updated_at DESC, id DESC LIMIT 1", // phpcs:ignore WordPress.DB.PreparedSQL.InterpolatedNotPrepared -- table name.
				self::FAILED,
				self::RETRYING,
				$attempts
			)
		);
		return (object) array(
			'count'       => (int) $row->n,
			'last_status' => $last ? $last->last_status : null,
			'last_error'  => $last ? (string) $last->last_error : '',
		);
	}
}
