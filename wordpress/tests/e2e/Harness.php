<?php
/**
 * Processes, ports and HTTP for the end-to-end test.
 *
 * @package WP_Bridge
 */

final class Harness {

	/**
	 * Processes started, by name.
	 *
	 * @var array<string,array{proc: resource, port: int}>
	 */
	private static array $procs = array();

	/** A loopback port nobody listens on right now. */
	public static function free_port(): int {
		$server = stream_socket_server( 'tcp://127.0.0.1:0', $errno, $error );
		if ( false === $server ) {
			throw new RuntimeException( "no free port: {$error}" );
		}
		$name = stream_socket_get_name( $server, false );
		fclose( $server );
		return (int) substr( (string) strrchr( (string) $name, ':' ), 1 );
	}

	/**
	 * Starts a process (no shell: the handle's pid is the process itself) and
	 * waits for it to listen on $port.
	 *
	 * @param array<string,string> $env Extra environment.
	 */
	public static function start( string $name, array $cmd, array $env, int $port, string $log_dir ): void {
		// Its own process group (setsid execs in place, keeping the pid), so
		// that stopping it also stops the workers `php -S` forks when
		// PHP_CLI_SERVER_WORKERS is set; they outlive a SIGTERM to the parent.
		$proc = proc_open(
			array_merge( array( 'setsid' ), $cmd ),
			array(
				0 => array( 'file', '/dev/null', 'r' ),
				1 => array( 'file', "{$log_dir}/{$name}.out", 'a' ),
				2 => array( 'file', "{$log_dir}/{$name}.err", 'a' ),
			),
			$pipes,
			null,
			array_merge( getenv(), $env )
		);
		if ( ! is_resource( $proc ) ) {
			throw new RuntimeException( "cannot start {$name}" );
		}
		self::$procs[ $name ] = array(
			'proc' => $proc,
			'port' => $port,
		);
		$deadline = microtime( true ) + 30;
		while ( microtime( true ) < $deadline ) {
			if ( ! proc_get_status( $proc )['running'] ) {
				throw new RuntimeException( "{$name} exited at start: " . @file_get_contents( "{$log_dir}/{$name}.err" ) );
			}
			$socket = @stream_socket_client( "tcp://127.0.0.1:{$port}", $errno, $error, 0.2 );
			if ( $socket ) {
				fclose( $socket );
				return;
			}
			usleep( 100000 );
		}
		throw new RuntimeException( "{$name} did not listen on {$port}" );
	}

	/** Stops one process: SIGTERM, then SIGKILL after 10 s. */
	public static function stop( string $name ): void {
		if ( ! isset( self::$procs[ $name ] ) ) {
			return;
		}
		$proc = self::$procs[ $name ]['proc'];
		unset( self::$procs[ $name ] );
		$group  = proc_get_status( $proc )['pid'];
		$signal = static function ( int $sig ) use ( $proc, $group ): void {
			if ( function_exists( 'posix_kill' ) ) {
				posix_kill( -$group, $sig );
			} else {
				proc_terminate( $proc, $sig );
			}
		};
		if ( proc_get_status( $proc )['running'] ) {
			$signal( 15 );
			$deadline = microtime( true ) + 10;
			while ( proc_get_status( $proc )['running'] && microtime( true ) < $deadline ) {
				usleep( 50000 );
			}
		}
		// Whatever is left of the group (forked workers included).
		$signal( 9 );
		proc_close( $proc );
	}

	/** Stops every process this test started. */
	public static function stop_all(): void {
		foreach ( array_keys( self::$procs ) as $name ) {
			self::stop( $name );
		}
	}

	/**
	 * Runs the WordPress command-line helper.
	 *
	 * @return mixed Its JSON result.
	 */
	public static function wp( string $site, string $command, array $args = array(), array $env = array() ) {
		$proc = proc_open(
			array( PHP_BINARY, __DIR__ . '/bin/wp.php', $command, json_encode( $args ) ),
			array(
				0 => array( 'file', '/dev/null', 'r' ),
				1 => array( 'pipe', 'w' ),
				2 => array( 'pipe', 'w' ),
			),
			$pipes,
			null,
			array_merge( getenv(), array( 'WP_BRIDGE_E2E_SITE' => $site ), $env )
		);
		$stdout = stream_get_contents( $pipes[1] );
		$stderr = stream_get_contents( $pipes[2] );
		fclose( $pipes[1] );
		fclose( $pipes[2] );
		$code = proc_close( $proc );
		$json = json_decode( trim( (string) $stdout ), true );
		if ( 0 !== $code || null === $json ) {
			throw new RuntimeException( "wp.php {$command} failed ({$code}): {$stdout} {$stderr}" );
		}
		return $json;
	}

	/**
	 * One HTTP request, redirects not followed.
	 *
	 * @param array<string,string>|null $form Form fields to POST.
	 * @return array{status: int, headers: array<string,string>, body: string, seconds: float}
	 */
	public static function http( string $method, string $url, ?array $form = null, ?string $cookie_jar = null, float $timeout = 30 ): array {
		$headers = array();
		$curl    = curl_init( $url );
		curl_setopt_array(
			$curl,
			array(
				CURLOPT_CUSTOMREQUEST  => $method,
				CURLOPT_RETURNTRANSFER => true,
				CURLOPT_FOLLOWLOCATION => false,
				CURLOPT_TIMEOUT_MS     => (int) ( $timeout * 1000 ),
				CURLOPT_HEADERFUNCTION => static function ( $c, string $line ) use ( &$headers ): int {
					$parts = explode( ':', $line, 2 );
					if ( 2 === count( $parts ) ) {
						$headers[ strtolower( trim( $parts[0] ) ) ] = trim( $parts[1] );
					}
					return strlen( $line );
				},
			)
		);
		if ( null !== $form ) {
			curl_setopt( $curl, CURLOPT_POSTFIELDS, http_build_query( $form ) );
		}
		if ( null !== $cookie_jar ) {
			curl_setopt( $curl, CURLOPT_COOKIEJAR, $cookie_jar );
			curl_setopt( $curl, CURLOPT_COOKIEFILE, $cookie_jar );
		}
		$started = microtime( true );
		$body    = curl_exec( $curl );
		$seconds = microtime( true ) - $started;
		if ( false === $body ) {
			$error = curl_error( $curl );
			curl_close( $curl );
			throw new RuntimeException( "{$method} {$url}: {$error}" );
		}
		$status = (int) curl_getinfo( $curl, CURLINFO_RESPONSE_CODE );
		curl_close( $curl );
		return array(
			'status'  => $status,
			'headers' => $headers,
			'body'    => (string) $body,
			'seconds' => $seconds,
		);
	}

	/**
	 * The named form's fields (inputs, textareas) and its action, from HTML.
	 *
	 * @return array{action: string, fields: array<string,string>}
	 */
	public static function form( string $html, string $xpath ): array {
		$doc = new DOMDocument();
		libxml_use_internal_errors( true );
		$doc->loadHTML( $html );
		libxml_clear_errors();
		$nodes = ( new DOMXPath( $doc ) )->query( $xpath );
		if ( ! $nodes || 0 === $nodes->length ) {
			throw new RuntimeException( "no form at {$xpath}" );
		}
		$form   = $nodes->item( 0 );
		$fields = array();
		foreach ( ( new DOMXPath( $doc ) )->query( './/input|.//textarea', $form ) as $input ) {
			if ( $input->getAttribute( 'name' ) ) {
				$fields[ $input->getAttribute( 'name' ) ] = 'textarea' === $input->nodeName ? $input->textContent : $input->getAttribute( 'value' );
			}
		}
		return array(
			'action' => $form->getAttribute( 'action' ),
			'fields' => $fields,
		);
	}

	/**
	 * Waits until $check returns something other than null/false.
	 *
	 * @return mixed What $check returned.
	 */
	public static function eventually( callable $check, float $seconds, string $what ) {
		$deadline = microtime( true ) + $seconds;
		do {
			$result = $check();
			if ( null !== $result && false !== $result ) {
				return $result;
			}
			usleep( 200000 );
		} while ( microtime( true ) < $deadline );
		throw new RuntimeException( "timed out after {$seconds} s waiting for {$what}" );
	}

	/**
	 * JSON lines of a file.
	 *
	 * @return array<int,array>
	 */
	public static function json_lines( string $file ): array {
		if ( ! is_file( $file ) ) {
			return array();
		}
		$lines = array();
		foreach ( file( $file, FILE_IGNORE_NEW_LINES | FILE_SKIP_EMPTY_LINES ) as $line ) {
			$decoded = json_decode( $line, true );
			if ( is_array( $decoded ) ) {
				$lines[] = $decoded;
			}
		}
		return $lines;
	}
}
