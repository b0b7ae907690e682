<?php
/**
 * order.created from WooCommerce.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge\Integrations;

use WP_Bridge\Events;
use WP_Bridge\Order_Payload;

defined( 'ABSPATH' ) || exit;

/**
 * Listens to every way an order is placed and queues each order once.
 *
 * woocommerce_new_order fires while the order is first saved, before its
 * line items are and before payment sets its status; the checkout hooks
 * fire later in the same request. So the hooks only note the order id, and
 * the event is built at the end of the request from the order as it is
 * then. The outbox's dedupe key keeps it to one event per order even
 * across requests.
 */
final class WooCommerce {

	/**
	 * Order ids noted in this request.
	 *
	 * @var array<int,true>
	 */
	private static $noted = array();

	/**
	 * Hooks.
	 */
	public static function register(): void {
		add_action( 'woocommerce_new_order', array( self::class, 'note' ), 10, 1 );
		add_action( 'woocommerce_checkout_order_processed', array( self::class, 'note' ), 10, 1 );
		add_action( 'woocommerce_store_api_checkout_order_processed', array( self::class, 'note' ), 10, 1 );
		// Before the dispatcher's shutdown work, which sends what this queues.
		add_action( 'shutdown', array( self::class, 'flush' ), 5 );
	}

	/**
	 * Notes an order.
	 *
	 * @param int|\WC_Order $order Order or its id (hooks differ).
	 */
	public static function note( $order ): void {
		$id = is_object( $order ) && method_exists( $order, 'get_id' ) ? (int) $order->get_id() : (int) $order;
		if ( $id > 0 ) {
			self::$noted[ $id ] = true;
		}
	}

	/**
	 * Queues the noted orders.
	 */
	public static function flush(): void {
		$ids          = array_keys( self::$noted );
		self::$noted  = array();
		$not_yet_sold = array( 'auto-draft', 'draft', 'checkout-draft', 'trash' );
		foreach ( $ids as $id ) {
			$order = wc_get_order( $id );
			if ( ! $order || in_array( $order->get_status(), $not_yet_sold, true ) || 'shop_order' !== $order->get_type() ) {
				continue;
			}
			$data = Order_Payload::from_order( $order, (int) wc_get_price_decimals(), time() );
			if ( null !== $data ) {
				Events::queue( 'order.created', $data, 'order:' . $id, $order );
			}
		}
	}
}
