<?php
/**
 * order.created data from a WooCommerce order.
 *
 * @package WP_Bridge
 */

namespace WP_Bridge;

defined( 'ABSPATH' ) || exit;

/**
 * Reads a WC_Order through its public getters only, so it works with both
 * the posts and the custom-tables (HPOS) order storage.
 */
final class Order_Payload {

	/** The schema allows at most this many line items. */
	private const MAX_LINE_ITEMS = 500;

	/**
	 * The data of an order.created event, or null when the order has no
	 * billing address the gateway would accept (the schema requires one, and
	 * a draft or half-entered admin order has none yet).
	 *
	 * @param object $order    A WC_Order.
	 * @param int    $decimals The shop's price decimals.
	 * @param int    $now      Unix time, for orders without a date.
	 * @return array<string,mixed>|null
	 */
	public static function from_order( object $order, int $decimals, int $now ): ?array {
		$email = Text::email_or_null( $order->get_billing_email() );
		if ( null === $email ) {
			return null;
		}
		$items = array();
		foreach ( $order->get_items() as $item ) {
			if ( count( $items ) >= self::MAX_LINE_ITEMS ) {
				break;
			}
			$items[] = array(
				'product_id' => max( 0, (int) $item->get_product_id() ),
				'name'       => Text::clean( $item->get_name() ),
				'quantity'   => max( 1, (int) $item->get_quantity() ),
				'total'      => Text::decimal( $item->get_total(), $decimals ),
			);
		}
		$created = $order->get_date_created();
		return array(
			'id'         => max( 0, (int) $order->get_id() ),
			'status'     => Text::slug( $order->get_status() ),
			'total'      => Text::decimal( $order->get_total(), $decimals ),
			'currency'   => strtoupper( substr( Text::clean( $order->get_currency() ), 0, 3 ) ),
			'customer'   => array(
				'email'      => $email,
				'first_name' => Text::clean( $order->get_billing_first_name() ),
				'last_name'  => Text::clean( $order->get_billing_last_name() ),
			),
			'line_items' => $items,
			// WC_DateTime keeps the shop's time zone; RFC 3339 keeps the offset.
			'created_at' => $created instanceof \DateTimeInterface ? $created->format( DATE_RFC3339 ) : Text::rfc3339( $now ),
		);
	}
}
