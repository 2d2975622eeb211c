<?php
/**
 * Plugin Name:       commentmod
 * Plugin URI:        https://github.com/commentmod/commentmod
 * Description:       Sends reader comments to a commentmod service for spam and abuse checks in Hindi, Hinglish and English, and applies its signed decisions.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            commentmod
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       commentmod
 *
 * @package commentmod
 */

/*
 * This program is free software; you can redistribute it and/or modify it under the terms of
 * the GNU General Public License as published by the Free Software Foundation; either version 2
 * of the License, or (at your option) any later version.
 *
 * This program is distributed in the hope that it will be useful, but WITHOUT ANY WARRANTY;
 * without even the implied warranty of MERCHANTABILITY or FITNESS FOR A PARTICULAR PURPOSE.
 * See the GNU General Public License for more details.
 */

defined( 'ABSPATH' ) || exit;

define( 'COMMENTMOD_VERSION', '0.1.0' );
define( 'COMMENTMOD_FILE', __FILE__ );

require_once __DIR__ . '/includes/class-commentmod-settings.php';
require_once __DIR__ . '/includes/class-commentmod-client.php';
require_once __DIR__ . '/includes/class-commentmod-store.php';
require_once __DIR__ . '/includes/class-commentmod-submission.php';
require_once __DIR__ . '/includes/class-commentmod-webhook.php';
require_once __DIR__ . '/includes/class-commentmod-moderation.php';
require_once __DIR__ . '/includes/class-commentmod-queue.php';
require_once __DIR__ . '/includes/class-commentmod-privacy.php';
require_once __DIR__ . '/includes/class-commentmod-connection-test.php';
require_once __DIR__ . '/includes/class-commentmod-admin.php';

Commentmod_Submission::register();
Commentmod_Webhook::register();
Commentmod_Moderation::register();
Commentmod_Queue::register();
Commentmod_Privacy::register();
if ( is_admin() ) {
	Commentmod_Admin::register();
}

register_activation_hook( __FILE__, array( 'Commentmod_Queue', 'activate' ) );
register_deactivation_hook( __FILE__, array( 'Commentmod_Queue', 'deactivate' ) );
