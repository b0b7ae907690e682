<?php
/**
 * The plugin in a real WordPress (Debian's package, on MariaDB, served by
 * `php -S`) sending to the real gateway (the quick start binary), whose
 * worker delivers to a fake Slack.
 *
 * Needs: WP_BRIDGE_QUICKSTART (path to the quick start binary), MariaDB on
 * 127.0.0.1:3306 with root and an empty password and a `test` database
 * (WP_BRIDGE_E2E_DB_* to change), /usr/share/wordpress. Every table it
 * creates has a fresh prefix and is dropped at the end.
 *
 * The tests run in order, each building on the site the previous left.
 *
 * @package WP_Bridge
 */

use PHPUnit\Framework\TestCase;

require_once __DIR__ . '/Harness.php';

final class EndToEndTest extends TestCase {

	private const ADMIN_PASSWORD = 'e2e-admin-password';

	private static string $dir;
	private static string $site;
	private static string $logs;
	private static string $prefix;
	private static string $secret;
	private static string $home;
	private static string $gateway_url;
	private static string $quickstart;
	private static int $gateway_port;
	private static int $slack_port;
	private static array $installed;

	public static function setUpBeforeClass(): void {
		self::$quickstart = (string) getenv( 'WP_BRIDGE_QUICKSTART' );
		if ( '' === self::$quickstart || ! is_executable( self::$quickstart ) ) {
			throw new RuntimeException( 'set WP_BRIDGE_QUICKSTART to the quick start binary (wordpress/tests/run.sh does)' );
		}
		register_shutdown_function( array( Harness::class, 'stop_all' ) );

		self::$dir  = sys_get_temp_dir() . '/wp-bridge-e2e-' . bin2hex( random_bytes( 4 ) );
		self::$site = self::$dir . '/site';
		self::$logs = self::$dir . '/logs';
		mkdir( self::$logs, 0700, true );
		self::build_site();

		self::$slack_port   = Harness::free_port();
		self::$gateway_port = Harness::free_port();
		$wp_port            = Harness::free_port();
		self::$home         = 'http://127.0.0.1:' . $wp_port;
		self::$gateway_url  = 'http://127.0.0.1:' . self::$gateway_port . '/webhooks/wp';
		self::$secret       = base64_encode( random_bytes( 32 ) );
		self::write_config();

		Harness::start(
			'slack',
			array( PHP_BINARY, '-S', '127.0.0.1:' . self::$slack_port, __DIR__ . '/fixtures/fake-slack.php' ),
			array( 'FAKE_SLACK_LOG' => self::$logs . '/slack.jsonl' ),
			self::$slack_port,
			self::$logs
		);
		self::start_gateway();
		// Several workers: WP-Cron requests the site spawns must not wait
		// behind the request that spawned them.
		Harness::start(
			'wordpress',
			array( PHP_BINARY, '-S', '127.0.0.1:' . $wp_port, '-t', self::$site ),
			array( 'PHP_CLI_SERVER_WORKERS' => '4' ),
			$wp_port,
			self::$logs
		);
		self::$installed = self::wp( 'install', array( 'gateway_url' => self::$gateway_url ) );
	}

	public static function tearDownAfterClass(): void {
		Harness::stop_all();
		self::drop_tables();
		if ( getenv( 'WP_BRIDGE_E2E_KEEP' ) ) {
			fwrite( STDERR, 'kept ' . self::$dir . "\n" );
		} elseif ( isset( self::$dir ) ) {
			exec( 'rm -rf ' . escapeshellarg( self::$dir ) );
		}
	}

	/** A self-contained copy of Debian's WordPress with its own wp-config.php. */
	private static function build_site(): void {
		$source = getenv( 'WP_BRIDGE_E2E_WORDPRESS' ) ?: '/usr/share/wordpress';
		exec( 'cp -a ' . escapeshellarg( $source . '/.' ) . ' ' . escapeshellarg( self::$site ), $output, $code );
		if ( 0 !== $code ) {
			throw new RuntimeException( "cannot copy {$source}" );
		}
		unlink( self::$site . '/wp-config.php' );
		$content = self::$site . '/wp-content';
		foreach ( array( 'plugins', 'themes', 'mu-plugins', 'uploads' ) as $sub ) {
			is_dir( "{$content}/{$sub}" ) || mkdir( "{$content}/{$sub}", 0755, true );
		}
		$plugin = dirname( __DIR__, 2 ) . '/wp-bridge';
		exec( 'cp -a ' . escapeshellarg( $plugin ) . ' ' . escapeshellarg( "{$content}/plugins/wp-bridge" ), $output, $code );
		exec( 'cp -a ' . escapeshellarg( __DIR__ . '/fixtures/theme' ) . ' ' . escapeshellarg( "{$content}/themes/wp-bridge-e2e" ), $output, $code2 );
		if ( 0 !== $code || 0 !== $code2
			|| ! copy( __DIR__ . '/fixtures/mu-plugin.php', "{$content}/mu-plugins/wp-bridge-e2e.php" )
			|| ! copy( __DIR__ . '/fixtures/fake-woocommerce.php', "{$content}/mu-plugins/wp-bridge-e2e-fake-woocommerce.php" ) ) {
			throw new RuntimeException( 'cannot lay out wp-content' );
		}
	}

	private static function write_config(): void {
		self::$prefix = 'wpb' . bin2hex( random_bytes( 3 ) ) . '_';
		$constants    = array(
			'DB_NAME'                    => getenv( 'WP_BRIDGE_E2E_DB_NAME' ) ?: 'test',
			'DB_USER'                    => getenv( 'WP_BRIDGE_E2E_DB_USER' ) ?: 'root',
			'DB_PASSWORD'                => getenv( 'WP_BRIDGE_E2E_DB_PASSWORD' ) ?: '',
			'DB_HOST'                    => getenv( 'WP_BRIDGE_E2E_DB_HOST' ) ?: '127.0.0.1:3306',
			'DB_CHARSET'                 => 'utf8mb4',
			'DB_COLLATE'                 => '',
			'WP_HOME'                    => self::$home,
			'WP_SITEURL'                 => self::$home,
			'WP_BRIDGE_SECRET'           => self::$secret,
			'WP_DEBUG'                   => true,
			'WP_DEBUG_LOG'               => self::$logs . '/debug.log',
			'WP_DEBUG_DISPLAY'           => false,
			// No call to wordpress.org or anywhere but this machine.
			'WP_HTTP_BLOCK_EXTERNAL'     => true,
			'AUTOMATIC_UPDATER_DISABLED' => true,
			'DISALLOW_FILE_MODS'         => true,
		);
		foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as $salt ) {
			$constants[ $salt ] = bin2hex( random_bytes( 32 ) );
		}
		$php = "<?php\n";
		foreach ( $constants as $name => $value ) {
			$php .= 'define( ' . var_export( $name, true ) . ', ' . var_export( $value, true ) . " );\n";
		}
		$php .= '$table_prefix = ' . var_export( self::$prefix, true ) . ";\n";
		$php .= "if ( ! defined( 'ABSPATH' ) ) {\n\tdefine( 'ABSPATH', __DIR__ . '/' );\n}\nrequire_once ABSPATH . 'wp-settings.php';\n";
		file_put_contents( self::$site . '/wp-config.php', $php );
	}

	private static function start_gateway(): void {
		Harness::start(
			'gateway',
			array( self::$quickstart ),
			array(
				'WP_BRIDGE_LISTEN'            => '127.0.0.1:' . self::$gateway_port,
				'WP_BRIDGE_SECRET'            => self::$secret,
				'WP_BRIDGE_SLACK_WEBHOOK_URL' => 'http://127.0.0.1:' . self::$slack_port . '/services/T000/B000/E2E',
				'RUST_LOG'                    => 'info',
			),
			self::$gateway_port,
			self::$logs
		);
	}

	private static function drop_tables(): void {
		if ( ! isset( self::$prefix ) ) {
			return;
		}
		list( $host, $port ) = array_pad( explode( ':', getenv( 'WP_BRIDGE_E2E_DB_HOST' ) ?: '127.0.0.1:3306' ), 2, '3306' );
		$db                  = new mysqli( $host, getenv( 'WP_BRIDGE_E2E_DB_USER' ) ?: 'root', getenv( 'WP_BRIDGE_E2E_DB_PASSWORD' ) ?: '', getenv( 'WP_BRIDGE_E2E_DB_NAME' ) ?: 'test', (int) $port );
		$like                = $db->real_escape_string( str_replace( '_', '\\_', self::$prefix ) ) . '%';
		$result              = $db->query( "SHOW TABLES LIKE '{$like}'" );
		foreach ( $result->fetch_all() as $row ) {
			$db->query( 'DROP TABLE `' . str_replace( '`', '', $row[0] ) . '`' );
		}
		$db->close();
	}

	/** @return mixed */
	private static function wp( string $command, array $args = array(), array $env = array() ) {
		return Harness::wp( self::$site, $command, $args, $env );
	}

	private static function row( callable $match ): ?array {
		foreach ( self::wp( 'rows' ) as $row ) {
			if ( $match( $row ) ) {
				return $row;
			}
		}
		return null;
	}

	private static function row_by_key( string $key ): ?array {
		return self::row( static fn( $row ) => $key === $row['dedupe_key'] );
	}

	/** Lines the gateway's worker printed for this event (every delivery). */
	private static function delivered( string $event_id ): array {
		return array_values( array_filter( Harness::json_lines( self::$logs . '/gateway.out' ), static fn( $l ) => ( $l['event_id'] ?? '' ) === $event_id ) );
	}

	/** Messages the fake Slack received about this event. */
	private static function slack( string $event_id ): array {
		return array_values( array_filter( Harness::json_lines( self::$logs . '/slack.jsonl' ), static fn( $m ) => false !== strpos( $m['body'], $event_id ) ) );
	}

	/** Waits for the gateway and Slack to have this event, then checks it came once. */
	private function assert_delivered_once( string $event_id ): array {
		$line = Harness::eventually( fn() => self::delivered( $event_id )[0] ?? null, 20, "the gateway to deliver {$event_id}" );
		Harness::eventually( fn() => self::slack( $event_id )[0] ?? null, 20, "Slack to receive {$event_id}" );
		// Room for a second delivery to show up if there were one.
		usleep( 500000 );
		$this->assertCount( 1, self::delivered( $event_id ), 'delivered once to the log sink' );
		$this->assertCount( 1, self::slack( $event_id ), 'posted once to Slack' );
		$this->assertSame( '/services/T000/B000/E2E', self::slack( $event_id )[0]['path'] );
		return $line;
	}

	/**
	 * Runs WP-Cron over HTTP, as a system cron would, until $done. A run may
	 * already hold the cron lock (WordPress's spawn of it can also be lost,
	 * leaving the lock for a minute); naming the lock, as a spawned request
	 * does, runs it anyway.
	 */
	private function run_cron_until( callable $done, string $what ): void {
		try {
			Harness::eventually(
				function () use ( $done ) {
					// Each round as if the next minute had come: a run that came
					// before the retry was due has rescheduled the job.
					self::wp( 'make-cron-due' );
					$lock = self::wp( 'cron' )['lock'];
					Harness::http( 'GET', self::$home . '/wp-cron.php' . ( $lock ? '?doing_wp_cron=' . rawurlencode( (string) $lock ) : '' ) );
					return $done();
				},
				30,
				$what
			);
		} catch ( RuntimeException $e ) {
			throw new RuntimeException( $e->getMessage() . '; outbox: ' . json_encode( self::wp( 'rows' ) ) . '; cron: ' . json_encode( self::wp( 'cron' ) ), 0, $e );
		}
	}

	/**
	 * Waits for what WordPress does in the background after a visitor's
	 * request, with other visitors coming by meanwhile: WordPress's
	 * non-blocking spawn of WP-Cron can be lost, and then the next visit
	 * after the one-minute cron lock starts it again.
	 *
	 * @return mixed What $check returned.
	 */
	private function while_visitors_come( callable $check, string $what ) {
		return Harness::eventually(
			function () use ( $check ) {
				$result = $check();
				if ( null === $result || false === $result ) {
					Harness::http( 'GET', self::$home . '/' );
				}
				return $result;
			},
			90,
			$what
		);
	}

	private function fill_lead_form( string $name, string $email, string $message ): array {
		$page = Harness::http( 'GET', self::$installed['page_url'] );
		$this->assertSame( 200, $page['status'] );
		$form                           = Harness::form( $page['body'], '//form[contains(@class,"wp-bridge-lead-form")]' );
		$form['fields']['lead_name']    = $name;
		$form['fields']['lead_email']   = $email;
		$form['fields']['lead_message'] = $message;
		return $form;
	}

	public function test_01_wordpress_is_installed_with_the_plugin_active(): void {
		$status = self::wp( 'status' );
		$this->assertTrue( $status['active'] );
		$this->assertTrue( $status['table'], 'the outbox table exists' );
		$this->assertSame( 'constant', $status['secret_source'] );
		$this->assertSame( self::$gateway_url, $status['gateway_url'] );
		$this->assertTrue( $status['cron_send'] );
		$this->assertTrue( $status['cron_purge'] );
		$this->assertStringContainsString( 'slack', (string) file_get_contents( self::$logs . '/gateway.err' ), 'the quick start runs its Slack sink' );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_02_a_comment_reaches_the_gateway_and_slack(): void {
		$comment = self::wp(
			'comment',
			array(
				'post_id' => self::$installed['post_id'],
				'author'  => 'Ada Lovelace',
				'email'   => 'ada@e2e.example',
				'ip'      => '192.0.2.10',
				'content' => 'Lovely post, thank you!',
			)
		);
		$this->assertSame( '1', $comment['approved'] );
		$row = self::row_by_key( 'comment:' . $comment['comment_id'] );
		$this->assertNotNull( $row, 'queued in the outbox' );
		$this->assertSame( 'sent', $row['state'] );
		$this->assertSame( '1', $row['attempts'] );
		$this->assertSame( '202', $row['last_status'] );
		$this->assertSame( 'accepted', $row['last_error'] );
		$this->assertMatchesRegularExpression( '/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/', $row['event_id'] );

		$body = json_decode( $row['body'], true );
		$this->assertSame( 'comment.created', $body['event'] );
		$this->assertSame( $row['event_id'], $body['event_id'] );
		$this->assertSame( self::$home, $body['site'] );
		$this->assertSame( $comment['comment_id'], $body['data']['id'] );
		$this->assertSame( array( 'name' => 'Ada Lovelace', 'email' => 'ada@e2e.example' ), $body['data']['author'] );

		$line = $this->assert_delivered_once( $row['event_id'] );
		$this->assertSame( 'Lovely post, thank you!', $line['event']['data']['content'] ?? null, json_encode( $line ) );
		$this->assertStringContainsString( 'Ada Lovelace', self::slack( $row['event_id'] )[0]['body'] );
	}

	/** @depends test_02_a_comment_reaches_the_gateway_and_slack */
	public function test_03_pending_comments_wait_for_approval_and_spam_is_never_sent(): void {
		$pending = self::wp(
			'comment',
			array(
				'post_id'  => self::$installed['post_id'],
				'author'   => 'Pending Person',
				'email'    => 'pending@e2e.example',
				'ip'       => '192.0.2.11',
				'content'  => 'Held for moderation.',
				'approved' => 0,
			)
		);
		$spam    = self::wp(
			'comment',
			array(
				'post_id'  => self::$installed['post_id'],
				'author'   => 'Spam Bot',
				'email'    => 'spam@e2e.example',
				'ip'       => '192.0.2.12',
				'content'  => 'Cheap pills',
				'approved' => 'spam',
			)
		);
		$this->assertSame( '0', $pending['approved'] );
		$this->assertSame( 'spam', $spam['approved'] );
		$this->assertNull( self::row_by_key( 'comment:' . $pending['comment_id'] ), 'pending: not sent yet' );
		$this->assertNull( self::row_by_key( 'comment:' . $spam['comment_id'] ), 'spam: never sent' );

		self::wp( 'approve', array( 'comment_id' => $pending['comment_id'] ) );
		$row = self::row_by_key( 'comment:' . $pending['comment_id'] );
		$this->assertNotNull( $row, 'sent once approved' );
		$this->assertSame( 'sent', $row['state'] );
		$this->assert_delivered_once( $row['event_id'] );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_04_the_lead_form_submitted_over_http_reaches_the_gateway_after_the_response(): void {
		$form   = $this->fill_lead_form( 'Grace Hopper', 'grace@e2e.example', 'Please call me back.' );
		$answer = Harness::http( 'POST', $form['action'], $form['fields'] );
		$this->assertSame( 303, $answer['status'], $answer['body'] );
		$this->assertStringContainsString( 'wp_bridge_lead=sent', $answer['headers']['location'] );
		$this->assertStringStartsWith( self::$installed['page_url'], $answer['headers']['location'] );

		// Sent by the WP-Cron request the form's request spawned on its way out.
		$row = $this->while_visitors_come(
			fn() => self::row( static fn( $r ) => 'lead.created' === $r['event_type'] && false !== strpos( $r['body'], 'grace@e2e.example' ) && 'sent' === $r['state'] ),
			'the lead to be sent'
		);
		$body = json_decode( $row['body'], true );
		$this->assertSame( 'contact', $body['data']['form_id'] );
		$this->assertSame( 'Contact us', $body['data']['form_title'] );
		$this->assertSame(
			array(
				'name'    => 'Grace Hopper',
				'email'   => 'grace@e2e.example',
				'message' => 'Please call me back.',
			),
			$body['data']['fields']
		);
		$this->assertSame( 'grace@e2e.example', $body['data']['email'] );
		$this->assertSame( self::$installed['page_url'], $body['data']['source_url'] );
		$this->assert_delivered_once( $row['event_id'] );

		$thanks = Harness::http( 'GET', $answer['headers']['location'] );
		$this->assertStringContainsString( 'Thank you, we will be in touch.', $thanks['body'] );
	}

	/** @depends test_04_the_lead_form_submitted_over_http_reaches_the_gateway_after_the_response */
	public function test_05_the_lead_form_refuses_tampered_and_invalid_submissions(): void {
		$before = count( self::wp( 'rows' ) );

		$form                         = $this->fill_lead_form( 'Mallory', 'mallory@e2e.example', 'hi' );
		$form['fields']['form_title'] = 'Another form';
		$this->assertSame( 400, Harness::http( 'POST', $form['action'], $form['fields'] )['status'] );

		$form   = $this->fill_lead_form( 'No Email', 'not-an-address', 'hi' );
		$answer = Harness::http( 'POST', $form['action'], $form['fields'] );
		$this->assertSame( 303, $answer['status'] );
		$this->assertStringContainsString( 'wp_bridge_lead=invalid', $answer['headers']['location'] );

		$form                           = $this->fill_lead_form( 'Bot', 'bot@e2e.example', 'spam' );
		$form['fields']['lead_website'] = 'http://spam.example';
		$this->assertStringContainsString( 'wp_bridge_lead=sent', Harness::http( 'POST', $form['action'], $form['fields'] )['headers']['location'] );

		$this->assertCount( $before, self::wp( 'rows' ), 'nothing queued' );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_06_do_action_wp_bridge_send_queues_once_per_dedupe_key(): void {
		$call = array(
			'type'    => 'lead.created',
			'data'    => array(
				'form_id'    => 'newsletter',
				'form_title' => 'Newsletter',
				'fields'     => array( 'email' => 'alan@e2e.example' ),
				'email'      => 'alan@e2e.example',
			),
			'options' => array( 'dedupe_key' => 'newsletter:7' ),
		);
		self::wp( 'send-action', $call );
		self::wp( 'send-action', $call );
		$rows = array_filter( self::wp( 'rows' ), static fn( $r ) => 'api:newsletter:7' === $r['dedupe_key'] );
		$this->assertCount( 1, $rows );
		$row = array_values( $rows )[0];
		$this->assertSame( 'sent', $row['state'] );
		$body = json_decode( $row['body'], true );
		$this->assertSame( 'Newsletter', $body['data']['form_title'] );
		$this->assertMatchesRegularExpression( '/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/', $body['data']['created_at'] );
		$this->assert_delivered_once( $row['event_id'] );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_06b_an_order_is_sent_once_though_several_woocommerce_hooks_fire(): void {
		$woo = array( 'WP_BRIDGE_E2E_FAKE_WOOCOMMERCE' => '1' );
		$this->assertNotFalse( self::wp( 'place-order', array( 'order_id' => 1042 ), $woo )['integration'] );
		// Another request firing a hook for the same order adds nothing.
		self::wp( 'place-order', array( 'order_id' => 1042 ), $woo );
		// Without WooCommerce active, its hooks are not listened to.
		$this->assertFalse( self::wp( 'place-order', array( 'order_id' => 1043 ), array() )['integration'] ?? false );
		$rows = array_values( array_filter( self::wp( 'rows' ), static fn( $r ) => 'order.created' === $r['event_type'] ) );
		$this->assertCount( 1, $rows );
		$this->assertSame( 'order:1042', $rows[0]['dedupe_key'] );
		$this->assertSame( 'sent', $rows[0]['state'], 'the gateway accepted the payload: ' . $rows[0]['last_response'] );
		$line = $this->assert_delivered_once( $rows[0]['event_id'] );
		$this->assertSame(
			array(
				'id'         => 1042,
				'status'     => 'processing',
				'total'      => '59.80',
				'currency'   => 'EUR',
				'customer'   => array( 'email' => 'grace@e2e.example', 'first_name' => 'Grace', 'last_name' => 'Hopper' ),
				'line_items' => array(
					array( 'product_id' => 7, 'name' => 'Mug', 'quantity' => 2, 'total' => '29.90' ),
					array( 'product_id' => 8, 'name' => 'Tea', 'quantity' => 1, 'total' => '0.00' ),
				),
				'created_at' => '2026-12-04T10:05:00+01:00',
			),
			json_decode( $rows[0]['body'], true )['data']
		);
		$this->assertSame( 1042, $line['event']['data']['id'] ?? null );
	}

	/** @depends test_04_the_lead_form_submitted_over_http_reaches_the_gateway_after_the_response */
	public function test_07_a_hung_gateway_does_not_slow_the_visitor(): void {
		// Accepts connections (the kernel does) and never answers.
		$black_hole = stream_socket_server( 'tcp://127.0.0.1:0' );
		$address    = stream_socket_get_name( $black_hole, false );
		self::wp( 'set-gateway', array( 'url' => 'http://' . $address . '/webhooks/wp' ) );
		try {
			$form   = $this->fill_lead_form( 'Katherine Johnson', 'katherine@e2e.example', 'Orbit question.' );
			$answer = Harness::http( 'POST', $form['action'], $form['fields'] );
			$this->assertSame( 303, $answer['status'] );
			$this->assertLessThan( 2.0, $answer['seconds'], 'the visitor waited for the gateway' );

			$row = $this->while_visitors_come(
				fn() => self::row( static fn( $r ) => false !== strpos( $r['body'], 'katherine@e2e.example' ) && 'retrying' === $r['state'] ),
				'the attempt against the hung gateway to time out'
			);
			$this->assertSame( 'network_error', $row['last_error'] );
			$this->assertNull( $row['last_status'] );
			$this->assertSame( '1', $row['attempts'] );
		} finally {
			self::wp( 'set-gateway', array( 'url' => self::$gateway_url ) );
			fclose( $black_hole );
		}

		// Back to the real gateway: the next WP-Cron run sends it, same id.
		$this->run_cron_until( fn() => 'sent' === ( self::row( static fn( $r ) => $r['id'] === $row['id'] )['state'] ?? '' ) ? true : null, 'the lead to be sent' );
		$sent = self::row( static fn( $r ) => $r['id'] === $row['id'] );
		$this->assertSame( $row['event_id'], $sent['event_id'] );
		$this->assertSame( '2', $sent['attempts'] );
		$this->assert_delivered_once( $row['event_id'] );
	}

	/** @depends test_02_a_comment_reaches_the_gateway_and_slack */
	public function test_08_with_the_gateway_down_the_event_waits_and_arrives_once_after_a_restart(): void {
		Harness::stop( 'gateway' );
		try {
			$comment = self::wp(
				'comment',
				array(
					'post_id' => self::$installed['post_id'],
					'author'  => 'Barbara Liskov',
					'email'   => 'barbara@e2e.example',
					'ip'      => '192.0.2.13',
					'content' => 'Written while the gateway was down.',
				)
			);
			// The command line's own attempt at shutdown is over by now.
			$row = self::row_by_key( 'comment:' . $comment['comment_id'] );
		} finally {
			self::start_gateway();
		}
		$this->assertSame( 'retrying', $row['state'] );
		$this->assertSame( '1', $row['attempts'] );
		$this->assertSame( 'network_error', $row['last_error'] );
		$this->assertStringContainsString( 'connect', strtolower( $row['last_response'] ) );
		$this->assertSame( array(), self::delivered( $row['event_id'] ) );

		$event_id = $row['event_id'];
		$this->run_cron_until( fn() => 'sent' === ( self::row_by_key( 'comment:' . $comment['comment_id'] )['state'] ?? '' ) ? true : null, 'WP-Cron to send the waiting comment' );
		$row = self::row_by_key( 'comment:' . $comment['comment_id'] );
		$this->assertSame( $event_id, $row['event_id'], 'the same event id on the retry' );
		$this->assertSame( '2', $row['attempts'] );
		$this->assertSame( '202', $row['last_status'] );
		$this->assert_delivered_once( $event_id );

		// Another cron run sends nothing again.
		self::wp( 'make-cron-due' );
		Harness::http( 'GET', self::$home . '/wp-cron.php' );
		sleep( 1 );
		$this->assertCount( 1, self::delivered( $event_id ) );

		// The same event sent again: the gateway knows it, and that is success.
		$again = self::wp( 'resend', array( 'id' => (int) $row['id'] ) );
		$this->assertSame(
			array(
				'kind'   => 'done',
				'status' => 200,
				'code'   => 'duplicate',
			),
			$again
		);
		usleep( 500000 );
		$this->assertCount( 1, self::delivered( $event_id ) );
	}

	/** @depends test_02_a_comment_reaches_the_gateway_and_slack */
	public function test_09_admin_screens_test_event_and_retry_of_a_failed_event(): void {
		$jar = self::$dir . '/cookies.txt';
		Harness::http( 'GET', self::$home . '/wp-login.php', null, $jar );
		$login = Harness::http(
			'POST',
			self::$home . '/wp-login.php',
			array(
				'log'        => 'admin',
				'pwd'        => self::ADMIN_PASSWORD,
				'testcookie' => '1',
				'redirect_to' => self::$home . '/wp-admin/',
			),
			$jar
		);
		$this->assertSame( 302, $login['status'], 'logged in' );

		$settings = Harness::http( 'GET', self::$home . '/wp-admin/options-general.php?page=wp-bridge', null, $jar );
		$this->assertSame( 200, $settings['status'] );
		$this->assertStringContainsString( 'Set by the WP_BRIDGE_SECRET constant in wp-config.php', $settings['body'] );
		$this->assertStringNotContainsString( self::$secret, $settings['body'], 'the secret is never shown' );
		$this->assertStringNotContainsString( substr( self::$secret, 0, 12 ), $settings['body'] );

		$test   = Harness::form( $settings['body'], '//form[input[@name="action" and @value="wp_bridge_send_test"]]' );
		$answer = Harness::http( 'POST', $test['action'], $test['fields'], $jar );
		$this->assertSame( 302, $answer['status'] );
		$shown = Harness::http( 'GET', self::$home . '/wp-admin/options-general.php?page=wp-bridge', null, $jar );
		$this->assertStringContainsString( 'The gateway answered 202 accepted.', $shown['body'] );

		// A 4xx answer stops the retries and shows in the admin.
		self::wp( 'set-gateway', array( 'url' => 'http://127.0.0.1:' . self::$gateway_port . '/webhooks/nowhere' ) );
		$comment = self::wp(
			'comment',
			array(
				'post_id' => self::$installed['post_id'],
				'author'  => 'Frances Allen',
				'email'   => 'frances@e2e.example',
				'ip'      => '192.0.2.14',
				'content' => 'Sent to the wrong URL first.',
			)
		);
		$key     = 'comment:' . $comment['comment_id'];
		$row     = self::row_by_key( $key );
		$this->assertSame( 'failed', $row['state'] );
		$this->assertSame( '404', $row['last_status'] );
		$this->assertSame( 'not_found', $row['last_error'] );
		self::wp( 'make-cron-due' );
		Harness::http( 'GET', self::$home . '/wp-cron.php' );
		$this->assertSame( '1', self::row_by_key( $key )['attempts'], 'not retried' );

		$events = Harness::http( 'GET', self::$home . '/wp-admin/tools.php?page=wp-bridge-events&state=failed', null, $jar );
		$this->assertSame( 200, $events['status'] );
		$this->assertStringContainsString( $row['event_id'], $events['body'] );
		$this->assertStringContainsString( '404 not_found', $events['body'] );
		$this->assertStringContainsString( 'failing to reach the gateway', $events['body'] );

		$retry = Harness::form( $events['body'], '//form[input[@name="id" and @value="' . $row['id'] . '"]]' );
		$this->assertGreaterThanOrEqual( 400, Harness::http( 'POST', $retry['action'], $retry['fields'] )['status'], 'logged out: refused' );
		$no_nonce = $retry['fields'];
		unset( $no_nonce['_wpnonce'] );
		$this->assertSame( 403, Harness::http( 'POST', $retry['action'], $no_nonce, $jar )['status'], 'no nonce: refused' );
		$this->assertSame( 'failed', self::row_by_key( $key )['state'] );

		self::wp( 'set-gateway', array( 'url' => self::$gateway_url ) );
		$answer = Harness::http( 'POST', $retry['action'], $retry['fields'], $jar );
		$this->assertSame( 302, $answer['status'] );
		$this->assertStringContainsString( 'requeued=1', $answer['headers']['location'] );
		$row = self::row_by_key( $key );
		$this->assertSame( 'sent', $row['state'], json_encode( self::wp( 'rows' ) ) );
		$this->assertSame( '202', $row['last_status'] );
		$this->assert_delivered_once( $row['event_id'] );
		$this->assertStringNotContainsString( 'failing to reach the gateway', Harness::http( 'GET', self::$home . '/wp-admin/', null, $jar )['body'] );
	}

	/** @depends test_08_with_the_gateway_down_the_event_waits_and_arrives_once_after_a_restart */
	public function test_10_finished_events_are_purged_after_the_retention_period_waiting_ones_are_kept(): void {
		self::wp( 'set-gateway', array( 'url' => 'http://127.0.0.1:' . Harness::free_port() . '/webhooks/wp' ) );
		$comment = self::wp(
			'comment',
			array(
				'post_id' => self::$installed['post_id'],
				'author'  => 'Radia Perlman',
				'email'   => 'radia@e2e.example',
				'ip'      => '192.0.2.15',
				'content' => 'Still waiting when the purge runs.',
			)
		);
		self::wp( 'set-gateway', array( 'url' => self::$gateway_url ) );
		$this->assertGreaterThan( 1, count( self::wp( 'rows' ) ) );

		self::wp( 'age-rows', array( 'seconds' => 29 * 86400 ) );
		self::wp( 'purge' );
		$this->assertGreaterThan( 1, count( self::wp( 'rows' ) ), 'younger than 30 days: kept' );

		self::wp( 'age-rows', array( 'seconds' => 2 * 86400 ) );
		self::wp( 'purge' );
		$rows = self::wp( 'rows' );
		$this->assertCount( 1, $rows );
		$this->assertSame( 'comment:' . $comment['comment_id'], $rows[0]['dedupe_key'] );
		$this->assertSame( 'retrying', $rows[0]['state'] );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_11_the_plugin_caused_no_php_warnings(): void {
		$log = is_file( self::$logs . '/debug.log' ) ? (string) file_get_contents( self::$logs . '/debug.log' ) : '';
		$this->assertStringNotContainsString( 'plugins/wp-bridge/', $log, $log );
	}

	/** @depends test_01_wordpress_is_installed_with_the_plugin_active */
	public function test_12_uninstall_removes_the_table_options_and_cron_events(): void {
		$this->assertSame(
			array(
				'table'    => false,
				'settings' => null,
				'schema'   => null,
				'cron'     => false,
			),
			self::wp( 'uninstall' )
		);
	}
}
