<?php
/**
 * Tools → wp-bridge events.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Admin;

use WP_Bridge\Outbox;
use WP_Bridge\Sender;

defined( 'ABSPATH' ) || exit;

/**
 * Recent events with their state and the gateway's last answer, and the
 * retry buttons for failed ones.
 */
final class Events_Page {

	public const SLUG = 'wp-bridge-events';

	private const RETRY_ACTION = 'wp_bridge_retry';
	private const PER_PAGE     = 50;

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'admin_menu', array( self::class, 'menu' ) );
		add_action( 'admin_post_' . self::RETRY_ACTION, array( self::class, 'retry' ) );
	}

	/**
	 * The menu entry.
	 */
	public static function menu(): void {
		add_management_page( __( 'wp-bridge events', 'wp-bridge' ), __( 'wp-bridge events', 'wp-bridge' ), 'manage_options', self::SLUG, array( self::class, 'render' ) );
	}

	/**
	 * State names for people.
	 *
	 * @return array<string,string>
	 */
	private static function state_labels(): array {
		return array(
			Outbox::PENDING  => __( 'Waiting', 'wp-bridge' ),
			Outbox::RETRYING => __( 'Retrying', 'wp-bridge' ),
			Outbox::SENT     => __( 'Sent', 'wp-bridge' ),
			Outbox::FAILED   => __( 'Failed', 'wp-bridge' ),
		);
	}

	/**
	 * The page.
	 */
	public static function render(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			return;
		}
		// phpcs:disable WordPress.Security.NonceVerification.Recommended -- read-only filters and paging.
		$labels = self::state_labels();
		$state  = isset( $_GET['state'] ) ? sanitize_key( wp_unslash( $_GET['state'] ) ) : '';
		$state  = isset( $labels[ $state ] ) ? $state : '';
		$page   = isset( $_GET['paged'] ) ? max( 1, absint( $_GET['paged'] ) ) : 1;
		$done   = isset( $_GET['requeued'] ) ? absint( $_GET['requeued'] ) : null;
		// phpcs:enable WordPress.Security.NonceVerification.Recommended
		$counts = Outbox::counts();
		$rows   = Outbox::recent( $state, self::PER_PAGE, ( $page - 1 ) * self::PER_PAGE );
		$base   = admin_url( 'tools.php?page=' . self::SLUG );
		?>
		<div class="wrap">
			<h1><?php esc_html_e( 'wp-bridge events', 'wp-bridge' ); ?></h1>
			<?php if ( null !== $done ) : ?>
				<div class="notice notice-success is-dismissible"><p>
					<?php
					/* translators: %d: number of events */
					echo esc_html( sprintf( _n( '%d event queued again.', '%d events queued again.', $done, 'wp-bridge' ), $done ) );
					?>
				</p></div>
			<?php endif; ?>
			<ul class="subsubsub">
				<li><a href="<?php echo esc_url( $base ); ?>" <?php echo '' === $state ? 'class="current"' : ''; ?>><?php esc_html_e( 'All', 'wp-bridge' ); ?> <span class="count">(<?php echo esc_html( (string) array_sum( $counts ) ); ?>)</span></a></li>
				<?php foreach ( $labels as $key => $label ) : ?>
					<li>| <a href="<?php echo esc_url( add_query_arg( 'state', $key, $base ) ); ?>" <?php echo $state === $key ? 'class="current"' : ''; ?>><?php echo esc_html( $label ); ?> <span class="count">(<?php echo esc_html( (string) $counts[ $key ] ); ?>)</span></a></li>
				<?php endforeach; ?>
			</ul>
			<?php if ( $counts[ Outbox::FAILED ] > 0 ) : ?>
				<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>" style="float:right;margin:8px 0;">
					<input type="hidden" name="action" value="<?php echo esc_attr( self::RETRY_ACTION ); ?>">
					<?php wp_nonce_field( self::RETRY_ACTION ); ?>
					<?php submit_button( __( 'Retry all failed events', 'wp-bridge' ), 'secondary', 'submit', false ); ?>
				</form>
			<?php endif; ?>
			<table class="widefat striped" style="clear:both;">
				<thead><tr>
					<th><?php esc_html_e( 'Queued', 'wp-bridge' ); ?></th>
					<th><?php esc_html_e( 'Event', 'wp-bridge' ); ?></th>
					<th><?php esc_html_e( 'State', 'wp-bridge' ); ?></th>
					<th><?php esc_html_e( 'Attempts', 'wp-bridge' ); ?></th>
					<th><?php esc_html_e( 'Gateway\'s last answer', 'wp-bridge' ); ?></th>
					<th></th>
				</tr></thead>
				<tbody>
				<?php if ( array() === $rows ) : ?>
					<tr><td colspan="6"><?php esc_html_e( 'No events.', 'wp-bridge' ); ?></td></tr>
				<?php endif; ?>
				<?php foreach ( $rows as $row ) : ?>
					<tr>
						<td><?php echo esc_html( wp_date( 'Y-m-d H:i:s', (int) $row->created_at ) ); ?></td>
						<td><strong><?php echo esc_html( $row->event_type ); ?></strong><br><code><?php echo esc_html( $row->event_id ); ?></code></td>
						<td>
							<?php echo esc_html( $labels[ $row->state ] ?? $row->state ); ?>
							<?php if ( Outbox::RETRYING === $row->state || Outbox::PENDING === $row->state ) : ?>
								<br><small>
								<?php
								/* translators: %s: date and time */
								echo esc_html( sprintf( __( 'next: %s', 'wp-bridge' ), wp_date( 'Y-m-d H:i:s', (int) $row->next_attempt_at ) ) );
								?>
								</small>
							<?php endif; ?>
						</td>
						<td><?php echo esc_html( (string) $row->attempts ); ?></td>
						<td>
							<?php if ( '' !== (string) $row->last_error ) : ?>
								<strong><?php echo esc_html( trim( ( null === $row->last_status ? '' : $row->last_status . ' ' ) . $row->last_error ) ); ?></strong>
								<br><small><?php echo esc_html( wp_html_excerpt( (string) $row->last_response, 200, '…' ) ); ?></small>
							<?php endif; ?>
						</td>
						<td>
							<?php if ( Outbox::FAILED === $row->state ) : ?>
								<form method="post" action="<?php echo esc_url( admin_url( 'admin-post.php' ) ); ?>">
									<input type="hidden" name="action" value="<?php echo esc_attr( self::RETRY_ACTION ); ?>">
									<input type="hidden" name="id" value="<?php echo esc_attr( (string) $row->id ); ?>">
									<?php wp_nonce_field( self::RETRY_ACTION ); ?>
									<?php submit_button( __( 'Retry', 'wp-bridge' ), 'small', 'submit', false ); ?>
								</form>
							<?php endif; ?>
						</td>
					</tr>
				<?php endforeach; ?>
				</tbody>
			</table>
			<?php
			$total = '' === $state ? array_sum( $counts ) : $counts[ $state ];
			echo wp_kses_post(
				(string) paginate_links(
					array(
						'base'    => add_query_arg( 'paged', '%#%' ),
						'current' => $page,
						'total'   => max( 1, (int) ceil( $total / self::PER_PAGE ) ),
					)
				)
			);
			?>
		</div>
		<?php
	}

	/**
	 * The retry buttons: the event goes back in the queue with its id, and
	 * the sender runs now for it (the admin waits, no visitor does).
	 */
	public static function retry(): void {
		if ( ! current_user_can( 'manage_options' ) ) {
			wp_die( esc_html__( 'You are not allowed to do this.', 'wp-bridge' ), '', array( 'response' => 403 ) );
		}
		check_admin_referer( self::RETRY_ACTION );
		$id    = isset( $_POST['id'] ) ? absint( $_POST['id'] ) : 0;
		$count = Outbox::requeue_failed( $id > 0 ? $id : null );
		if ( $count > 0 ) {
			Sender::run( min( $count, 25 ), 20, $id > 0 ? array( $id ) : null );
		}
		wp_safe_redirect( add_query_arg( 'requeued', $count, admin_url( 'tools.php?page=' . self::SLUG ) ) );
		exit;
	}
}
