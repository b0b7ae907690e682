<?php
/**
 * Objects shaped like WooCommerce's and Gravity Forms' (the public methods
 * the plugin calls, nothing more), for building payloads without them.
 *
 * @package WP_Bridge
 */

final class Fake_Order_Item {
	public function __construct( private int $product_id, private string $name, private $quantity, private $total ) {}
	public function get_product_id() { return $this->product_id; }
	public function get_name() { return $this->name; }
	public function get_quantity() { return $this->quantity; }
	public function get_total() { return $this->total; }
}

final class Fake_Order {
	/** @param array<string,mixed> $props */
	public function __construct( private array $props ) {}
	public function __call( string $name, array $args ) {
		$key = substr( $name, 4 );
		if ( 0 !== strpos( $name, 'get_' ) || ! array_key_exists( $key, $this->props ) ) {
			throw new BadMethodCallException( $name );
		}
		return $this->props[ $key ];
	}
}

final class Fake_GF_Name_Field {
	public $id    = 1;
	public $type  = 'name';
	public $label = 'Name';
	public function get_value_export( $entry ) {
		return trim( ( $entry['1.3'] ?? '' ) . ' ' . ( $entry['1.6'] ?? '' ) );
	}
}
