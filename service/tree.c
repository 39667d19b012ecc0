// SPDX-License-Identifier: BSD-3-Clause
/*
 * tree.c - an intrusive AVL tree: after every insert and remove, the two
 * subtrees of each node differ in height by at most one, so a lookup
 * visits at most ~1.44 log2(n) nodes.
 */
#include <stddef.h>

#include "tree.h"

static int height(const struct dl_tree_node *n)
{
	return n ? n->height : 0;
}

static void update_height(struct dl_tree_node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = 1 + (l > r ? l : r);
}

static struct dl_tree_node *rotate_right(struct dl_tree_node *y)
{
	struct dl_tree_node *x = y->left;

	y->left = x->right;
	x->right = y;
	update_height(y);
	update_height(x);
	return x;
}

static struct dl_tree_node *rotate_left(struct dl_tree_node *x)
{
	struct dl_tree_node *y = x->right;

	x->right = y->left;
	y->left = x;
	update_height(x);
	update_height(y);
	return y;
}

/* n's subtrees are balanced and differ by at most 2: make n balanced. */
static struct dl_tree_node *rebalance(struct dl_tree_node *n)
{
	int diff = height(n->left) - height(n->right);

	update_height(n);
	if (diff > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (diff < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct dl_tree_node *insert(struct dl_tree_node *t,
				   struct dl_tree_node *n, const void *key,
				   dl_tree_cmp_fn *cmp)
{
	if (!t) {
		n->left = n->right = NULL;
		n->height = 1;
		return n;
	}
	if (cmp(t, key) > 0)
		t->left = insert(t->left, n, key, cmp);
	else
		t->right = insert(t->right, n, key, cmp);
	return rebalance(t);
}

void dl_tree_insert(struct dl_tree_node **root, struct dl_tree_node *n,
		    const void *key, dl_tree_cmp_fn *cmp)
{
	*root = insert(*root, n, key, cmp);
}

/* Unlink the leftmost node of t into *min; the new subtree. */
static struct dl_tree_node *remove_min(struct dl_tree_node *t,
				       struct dl_tree_node **min)
{
	if (!t->left) {
		*min = t;
		return t->right;
	}
	t->left = remove_min(t->left, min);
	return rebalance(t);
}

static struct dl_tree_node *remove(struct dl_tree_node *t, const void *key,
				   dl_tree_cmp_fn *cmp,
				   struct dl_tree_node **out)
{
	struct dl_tree_node *m, *right;
	int c;

	if (!t)
		return NULL;
	c = cmp(t, key);
	if (c > 0) {
		t->left = remove(t->left, key, cmp, out);
	} else if (c < 0) {
		t->right = remove(t->right, key, cmp, out);
	} else {
		*out = t;
		if (!t->right)
			return t->left;
		/* the next node in order takes t's place */
		right = remove_min(t->right, &m);
		m->left = t->left;
		m->right = right;
		return rebalance(m);
	}
	return rebalance(t);
}

struct dl_tree_node *dl_tree_remove(struct dl_tree_node **root,
				    const void *key, dl_tree_cmp_fn *cmp)
{
	struct dl_tree_node *out = NULL;

	*root = remove(*root, key, cmp, &out);
	return out;
}

struct dl_tree_node *dl_tree_floor(struct dl_tree_node *t, const void *key,
				   dl_tree_cmp_fn *cmp)
{
	struct dl_tree_node *best = NULL;

	while (t) {
		int c = cmp(t, key);

		if (!c)
			return t;
		if (c < 0) {
			best = t;
			t = t->right;
		} else {
			t = t->left;
		}
	}
	return best;
}

struct dl_tree_node *dl_tree_above(struct dl_tree_node *t, const void *key,
				   dl_tree_cmp_fn *cmp)
{
	struct dl_tree_node *best = NULL;

	while (t) {
		if (cmp(t, key) > 0) {
			best = t;
			t = t->left;
		} else {
			t = t->right;
		}
	}
	return best;
}

struct dl_tree_node *dl_tree_ceil(struct dl_tree_node *t, const void *key,
				  dl_tree_cmp_fn *cmp)
{
	struct dl_tree_node *n = dl_tree_floor(t, key, cmp);

	return n && !cmp(n, key) ? n : dl_tree_above(t, key, cmp);
}

struct dl_tree_node *dl_tree_first(struct dl_tree_node *t)
{
	while (t && t->left)
		t = t->left;
	return t;
}
