/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tree.h - an intrusive balanced binary search tree (AVL).
 *
 * The caller embeds a struct dl_tree_node in its object and orders the
 * objects with a compare function between a node and a key (any type the
 * caller likes: the compare function knows).  Keys are unique.  Every
 * operation is O(log n), iterative lookups, recursive updates (an AVL
 * tree of 2^32 nodes is at most 45 levels deep).  Nothing is allocated:
 * the tree only links the caller's nodes.
 */
#ifndef DAXLEASED_TREE_H
#define DAXLEASED_TREE_H

struct dl_tree_node {
	struct dl_tree_node *left, *right;
	int height;			/* of the subtree: 1 for a leaf */
};

/* <0, 0, >0: the node's key is below, equal to, above key. */
typedef int dl_tree_cmp_fn(const struct dl_tree_node *n, const void *key);

/* Link n, whose key is key (no node with that key may be in the tree). */
void dl_tree_insert(struct dl_tree_node **root, struct dl_tree_node *n,
		    const void *key, dl_tree_cmp_fn *cmp);
/* Unlink the node with this key and return it (NULL if none). */
struct dl_tree_node *dl_tree_remove(struct dl_tree_node **root,
				    const void *key, dl_tree_cmp_fn *cmp);

/* The node with the largest key <= key, or NULL. */
struct dl_tree_node *dl_tree_floor(struct dl_tree_node *root,
				   const void *key, dl_tree_cmp_fn *cmp);
/* The node with the smallest key >= key, or NULL. */
struct dl_tree_node *dl_tree_ceil(struct dl_tree_node *root, const void *key,
				  dl_tree_cmp_fn *cmp);
/* The node with the smallest key > key, or NULL: the next one in order. */
struct dl_tree_node *dl_tree_above(struct dl_tree_node *root,
				   const void *key, dl_tree_cmp_fn *cmp);
/* The node with the smallest key, or NULL. */
struct dl_tree_node *dl_tree_first(struct dl_tree_node *root);

#endif
