//! What a move of the lock lets in: the flags a reviewer must see.
